//! Spawns the simulators in-process on free ports and gives tests what they need to talk to them.

use returns_gateway::config::Settings;
use returns_gateway::sim::{start_all, Faults, SimHandle, Simulators};
use tokio::sync::oneshot;

/// The five simulators, running until this is dropped, and demo settings pointed at them.
pub struct TestSims {
    pub sims: Simulators,
    pub settings: Settings,
    _stop: oneshot::Sender<()>,
}

/// Starts the simulators with the demo settings, `customize`d, on free ports.
pub async fn start_with(customize: impl FnOnce(&mut Settings)) -> TestSims {
    let mut settings = Settings::demo();
    customize(&mut settings);
    let (stop, stopped) = oneshot::channel::<()>();
    let sims = start_all(&settings, true, async move {
        let _ = stopped.await;
    })
    .await
    .expect("simulators start");
    sims.wire_into(&mut settings);
    TestSims {
        sims,
        settings,
        _stop: stop,
    }
}

/// Starts the simulators with the demo settings; a smaller world keeps tests quick.
pub async fn start() -> TestSims {
    start_with(|s| s.sim.returns = 120).await
}

impl TestSims {
    pub fn set_faults(&self, sim: &SimHandle, faults: Faults) {
        sim.control.set_faults(faults);
    }
}

/// A sample body from the vendor docs, as copied into `tests/fixtures/<vendor>/`.
pub fn fixture(path: &str) -> String {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// A base URL nothing listens on: a port bound and released again.
pub fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}")
}

/// Faults that make a simulator hang, for timeout tests.
pub fn hang() -> Faults {
    Faults {
        hang: true,
        ..Faults::default()
    }
}

pub fn malformed() -> Faults {
    Faults {
        malformed: true,
        ..Faults::default()
    }
}

pub fn rate_limited(retry_after_s: u64) -> Faults {
    Faults {
        rate_limit_retry_after_s: retry_after_s,
        ..Faults::default()
    }
}
