import os

import pytest

from aframe.pinto.pipeline import PintoError, Pipeline, Step


def test_step_parse():
    step = Step.parse("train:train:resnet")
    assert (step.project, step.script, step.subcommand, step.key) == (
        "train",
        "train",
        "resnet",
        "train",
    )
    assert Step.parse("datagen:generate-background").subcommand is None
    for bad in ("train", "a:b:c:d", "a::b", ":b"):
        with pytest.raises(PintoError, match="expected project:script"):
            Step.parse(bad)


def test_step_matches_script_project_script_and_spec():
    step = Step.parse("train:train:resnet")
    assert step.matches("train")
    assert step.matches("train:train")
    assert step.matches("train:train:resnet")
    assert not step.matches("resnet")
    assert not step.matches("export:train")


def test_load_resolves_tables_and_directories(sandbox):
    pipeline = Pipeline.load()
    assert pipeline.pyproject == sandbox.pyproject
    assert [s.spec for s in pipeline.steps] == [
        "gen:make-data",
        "fit:train:small",
        "report:analyse",
    ]
    assert pipeline.profile == "default"
    assert pipeline.basedir == sandbox.base / "default"
    assert pipeline.datadir == sandbox.data / "default"
    assert pipeline.stamp_dir == sandbox.base / "default" / ".pinto"
    assert pipeline.log_dir == sandbox.base / "default" / "logs"
    train = pipeline.steps[1]
    assert pipeline.typeo_spec(train) == f"{sandbox.pyproject}:train:small"
    assert pipeline.project_dir(train) == sandbox.root / "fit"
    assert pipeline.arguments(train) == {
        "arguments": {"calls": str(sandbox.base / "calls.jsonl"), "epochs": 2},
        "subcommand": {"width": 4},
    }
    assert pipeline.vizapp_address() == ("127.0.0.1", 5005)


def test_basedir_falls_back_to_BASE_DIR(sandbox, tmp_path):
    sandbox.edit('basedir = "${BASE_DIR}/${profile}"\n', "")
    assert Pipeline.load().basedir == sandbox.base


def test_a_script_used_twice_gets_distinct_keys(sandbox):
    sandbox.edit('"fit:train:small",', '"fit:train:small", "fit:train:large",')
    keys = [s.key for s in Pipeline.load().steps]
    assert keys == ["make-data", "train-small", "train-large", "analyse"]


def test_select(sandbox):
    pipeline = Pipeline.load()
    assert pipeline.select([]) == pipeline.steps
    # pipeline order, whatever the order asked for
    chosen = pipeline.select(["analyse", "gen:make-data"])
    assert [s.script for s in chosen] == ["make-data", "analyse"]
    with pytest.raises(PintoError, match="unknown step.*nope.*gen:make-data"):
        pipeline.select(["nope"])


def test_hash_follows_arguments_and_profile(sandbox):
    first = Pipeline.load()
    hashes = [first.step_hash(s) for s in first.steps]
    assert len(set(hashes)) == 3
    assert [Pipeline.load().step_hash(s) for s in first.steps] == hashes

    # a change to the last step leaves the others alone
    sandbox.edit("exit_code = 0", "exit_code = 0\nextra = 1")
    changed = Pipeline.load()
    again = [changed.step_hash(s) for s in changed.steps]
    assert again[:2] == hashes[:2] and again[2] != hashes[2]

    # what a step reads enters through provenance (stamps), not this hash
    sandbox.edit("seed = 1", "seed = 2")
    upstream = Pipeline.load()
    after = [upstream.step_hash(s) for s in upstream.steps]
    assert after[0] != again[0] and after[1:] == again[1:]

    os.environ["AFRAME_PROFILE"] = "tiny"
    tiny = Pipeline.load()
    assert tiny.step_hash(tiny.steps[0]) != upstream.step_hash(upstream.steps[0])


def test_step_names_are_names_not_paths():
    for bad in (
        "analysis:../../../usr/bin/env",
        "../x:script",
        "a:b/c",
        "a:b:../c",
        "a:.hidden",
        "a b:c",
    ):
        with pytest.raises(PintoError, match="must be a name"):
            Step.parse(bad)
    assert Step.parse("datagen:generate-background").script == "generate-background"
    assert Step.parse("train:train_v2.1:resnet").script == "train_v2.1"


def test_needs_default_to_every_earlier_step_and_can_be_declared(sandbox):
    pipeline = Pipeline.load()
    make, train, analyse = pipeline.steps
    assert pipeline.needs(analyse) == [make, train]
    assert pipeline.needs(make) == []
    sandbox.edit(
        "min_free_gib = 0.001",
        'min_free_gib = 0.001\n\n[tool.pinto.needs]\nanalyse = ["train"]\ntrain = []',
    )
    pipeline = Pipeline.load()
    assert pipeline.needs(pipeline.steps[2]) == [pipeline.steps[1]]
    assert pipeline.needs(pipeline.steps[1]) == []
    pipeline.check_needs()
    sandbox.edit('analyse = ["train"]', 'analyse = ["trian"]')
    with pytest.raises(PintoError, match="'trian' is not a step before it"):
        Pipeline.load().check_needs()
    sandbox.edit('analyse = ["trian"]', 'analyse = ["train"]\nanalyze = []')
    with pytest.raises(PintoError, match="needs\\] analyze: not a step"):
        Pipeline.load().check_needs()


def test_missing_tables_and_files_are_named(sandbox, tmp_path):
    with pytest.raises(PintoError, match="no such file"):
        Pipeline.load(tmp_path / "elsewhere")
    sandbox.edit('"report:analyse"', '"report:analyse", "report:plots"')
    pipeline = Pipeline.load()
    with pytest.raises(PintoError, match=r"no \[tool.typeo.scripts.plots\] table"):
        pipeline.arguments(pipeline.steps[-1])
    sandbox.edit('"fit:train:small"', '"fit:train:huge"')
    pipeline = Pipeline.load()
    with pytest.raises(PintoError, match=r"scripts.train.commands.huge\] table"):
        pipeline.arguments(pipeline.steps[1])


def test_bad_pyproject_is_one_clear_error(sandbox):
    sandbox.pyproject.write_text("[tool.pinto\n")
    with pytest.raises(PintoError, match="not valid TOML"):
        Pipeline.load()
    sandbox.pyproject.write_text("[tool.typeo.base]\nx = 1\n")
    with pytest.raises(PintoError, match=r"no \[tool.pinto\] steps"):
        Pipeline.load()
    sandbox.pyproject.write_text("[tool.pinto]\nsteps = []\n[tool.typeo]\n")
    with pytest.raises(PintoError, match="non-empty"):
        Pipeline.load()
    sandbox.pyproject.write_text(
        '[tool.pinto]\nsteps = ["a:b"]\n[tool.typeo.base]\nx = "${NOT_SET_ANYWHERE}"\n'
    )
    with pytest.raises(PintoError, match="NOT_SET_ANYWHERE is not set"):
        Pipeline.load()


def test_vizapp_address_from_its_table(sandbox):
    sandbox.edit(
        "[tool.typeo.profiles",
        '[tool.typeo.scripts.vizapp]\nhost = "0.0.0.0"\nport = 5006\n\n'
        "[tool.typeo.profiles",
    )
    assert Pipeline.load().vizapp_address() == ("0.0.0.0", 5006)
