"""Figures shared by the analysis plots and the app.

- ``figures``: Bokeh figures of the analysis results (sensitive volume and
  efficiency vs false-alarm rate and SNR, the detection statistic vs SNR, the
  background's survival function, the cumulative IFAR of zero-lag events,
  found/missed injections, found fraction by chirp mass) and the helpers
  their matplotlib versions share. Every FAR a reader sees is per year.
- ``ifar``: zero-lag events counted by inverse false-alarm rate against the
  Poisson expectation of noise.
- ``timeaxis``: GPS times as UTC dates and datetime-axis milliseconds.
"""
