"""The control API tests and the demo use to drive the emulator: reset, seed, clock, faults, logs, state."""
