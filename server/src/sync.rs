//! Locks that outlive a panic. Every mutex of the server guards state that
//! a panic elsewhere cannot leave half-changed (a queue, a list of entries,
//! a counter), so a poisoned lock is taken as it is rather than turning one
//! panic into a panic of every later caller.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, poisoned or not.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
