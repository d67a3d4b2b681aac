"""datagen.

background strain, glitches, training waveforms and timeslide injections.
"""
