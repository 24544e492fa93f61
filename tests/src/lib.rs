//! End-to-end tests of the real `loa` binary.
