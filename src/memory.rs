//! The allocator's settings for a long-running gateway on glibc.
//!
//! The sync reads large answers (V-Track's whole report, tens of MB at 100,000 returns) on
//! whichever thread runs it, and SQLite writes on its connections' own threads. With glibc's
//! defaults each of those threads gets an arena of its own (up to 8 per core), and a large
//! block freed in one stays there: a heap of about 120 MiB at the peak of a 100,000-return
//! backfill (heaptrack) showed as 390 MiB of resident memory.

/// Sets glibc's malloc for the gateway; `main` calls it once, before the gateway starts.
/// - A fixed mmap threshold (256 KiB): a large buffer always gets its own mapping and goes back
///   to the system when freed. (By default the threshold rises to the largest block freed, up
///   to 32 MiB, so the next large reads are carved out of an arena and stay resident.)
/// - At most two arenas: threads share heaps instead of each keeping its own free memory.
///
/// An operator's own `GLIBC_TUNABLES` (e.g. `glibc.malloc.arena_max=4`) wins over these.
pub fn tune_allocator() {
    if std::env::var_os("GLIBC_TUNABLES").is_some() {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets glibc's malloc parameters; it takes no pointer.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Hands the heap a large read left free back to the system, after a sync step: glibc keeps
/// freed memory in its arenas, so a gateway that had backfilled 27,000 returns held about
/// 200 MiB more than it used (`malloc_trim` took it from 475 to 264 MiB, simulators included).
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks and trims glibc's own heap; it takes no pointer.
    unsafe {
        libc::malloc_trim(0);
    }
}
