//! Unit tests of the sequencer (filled in below).
