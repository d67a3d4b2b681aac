"""vizapp: the Bokeh app for exploring an aframe experiment."""
