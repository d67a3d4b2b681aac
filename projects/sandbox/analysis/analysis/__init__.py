"""analysis: false-alarm rates, sensitive volume, efficiency and plots."""
