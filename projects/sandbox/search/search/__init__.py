"""search: the trained detector on any strain, offline and following live frames.

- ``data``: the segments of finite data a search analyses, read through the
  same gwpy readers as generate-background, and what it skips;
- ``offline``: zero-lag and timeslide jobs over those segments (the streaming
  core of ``aframe.search``, fanned out on Ray) and the candidates' FARs;
- ``report``: ``candidates.hdf5``, ``candidates.csv`` and ``candidates.json``;
- ``frames``: frame files named by GPS, as detector sites write them;
- ``follow``: the online search over a directory of frames;
- ``main``: the ``search`` script.
"""
