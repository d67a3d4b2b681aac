"""Figures shared by the analysis plots and the app.

- ``figures``: Bokeh figures of the analysis results (sensitive volume and
  efficiency vs false-alarm rate and SNR, the detection statistic vs SNR, the
  background's survival function) and the helpers their matplotlib versions
  share.
"""
