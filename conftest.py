"""Test-wide settings: nothing in the test suite reaches the network."""

from aframe.utils.offline import disable_network_features

disable_network_features()
