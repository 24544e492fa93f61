//! Wall-clock time from the host (plugins have no other clock they should trust).

use crate::bindings::imports::loa::plugin::host;

/// Wall-clock time, milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    host::now_ms()
}
