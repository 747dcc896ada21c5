//! The process metrics of [`catalog::PROCESS`], read from `/proc` at each scrape, as the
//! Prometheus client libraries read them (CPU time in clock ticks of 100 a second, the
//! kernel's fixed `USER_HZ`; memory from `stat`; descriptors from `fd/` and `limits`). No
//! crate: five small files. Elsewhere than Linux there are none.

use std::fmt::Write as _;

use vendors::metrics::catalog::{self, Kind};

/// `USER_HZ`: what `/proc/<pid>/stat` counts CPU time in, 100 on every Linux architecture.
const TICKS_PER_SECOND: f64 = 100.0;

/// The figures, in [`catalog::PROCESS`]'s order; `None` for one that could not be read.
fn read() -> [Option<f64>; 6] {
    let stat = std::fs::read_to_string("/proc/self/stat").ok();
    // The fields after the command name, which is in parentheses and may hold anything.
    let fields: Vec<&str> = stat
        .as_deref()
        .and_then(|s| s.rsplit_once(')'))
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // `fields[0]` is field 3 of proc(5) (state): field n is `fields[n - 3]`.
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<f64>().ok());
    let cpu = field(14)
        .zip(field(15))
        .map(|(user, system)| (user + system) / TICKS_PER_SECOND);
    let virtual_bytes = field(23);
    let page_size = page_size();
    let resident = field(24).map(|pages| pages * page_size);
    let boot_time = std::fs::read_to_string("/proc/stat").ok().and_then(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("btime "))
            .and_then(|v| v.trim().parse::<f64>().ok())
    });
    let start = field(22)
        .zip(boot_time)
        .map(|(ticks, boot)| boot + ticks / TICKS_PER_SECOND);
    let open_fds = std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|entries| entries.count() as f64);
    let max_fds = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Max open files"))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|soft| soft.parse::<f64>().ok())
        });
    [cpu, resident, virtual_bytes, open_fds, max_fds, start]
}

/// The size of a memory page: what `stat`'s resident set is counted in.
fn page_size() -> f64 {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: sysconf reads a constant of the system; it has no preconditions.
        let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if size > 0 {
            return size as f64;
        }
    }
    4096.0
}

/// The process metrics as Prometheus text (nothing for a figure that could not be read).
pub fn render() -> String {
    let mut text = String::new();
    for (metric, value) in catalog::PROCESS.iter().zip(read()) {
        let Some(value) = value else { continue };
        let kind = match metric.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        let _ = write!(
            text,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n",
            name = metric.name,
            help = metric.help,
        );
    }
    text
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn every_figure_is_read_on_linux() {
        let [cpu, resident, virtual_bytes, open_fds, max_fds, start] = read();
        assert!(cpu.is_some_and(|s| s >= 0.0));
        assert!(resident.is_some_and(|b| b > 1e6), "{resident:?}");
        assert!(virtual_bytes >= resident);
        let _file = std::fs::File::open("/proc/self/stat").unwrap();
        assert!(open_fds.is_some_and(|n| n >= 1.0));
        assert!(max_fds >= open_fds);
        // After 2017, and not after now by the kernel's clock (boot time + uptime): the
        // figure comes from /proc, which libfaketime does not move, so not the process's clock.
        let btime: f64 = std::fs::read_to_string("/proc/stat")
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("btime ")?.trim().parse().ok())
            .unwrap();
        let uptime: f64 = std::fs::read_to_string("/proc/uptime")
            .unwrap()
            .split_whitespace()
            .next()
            .and_then(|u| u.parse().ok())
            .unwrap();
        let now = btime + uptime;
        assert!(
            start.is_some_and(|s| s > 1.5e9 && s <= now + 1.0),
            "{start:?}"
        );
        assert_eq!(render().matches("# TYPE ").count(), 6);
    }
}
