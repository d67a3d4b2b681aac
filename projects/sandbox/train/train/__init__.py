"""train: a BBH detector trained with Lightning on whitened two-detector strain.

Modules: ``cli`` (the ``train`` script), ``inputs`` (checked background,
signals, glitches), ``sampling`` (raw samples, glitches, batches), ``waveforms``
(the signal bank), ``injection`` (sky projection, SNR, placement),
``curriculum`` (target SNRs), ``augment`` (the per-batch pipeline), ``validation``
(timeslide background and injected views), ``metrics`` (recall at FAR, AUROC),
``model`` (the LightningModule), ``data`` (the LightningDataModule),
``callbacks`` (time budget, metrics table), ``outputs`` (the training directory),
``architectures`` (subcommands), ``seeds``.
"""
