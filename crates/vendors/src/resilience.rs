//! What protects each vendor and us from each other, applied to every call in one place (the
//! shared [`super::Transport`]):
//!
//! - a deadline: a call, retries included, never outlasts the vendor's `timeout_ms`;
//! - a bulkhead: at most `max_concurrency` calls in flight per vendor;
//! - a client-side rate limit (`rate_limit_per_s`, and `endpoint_rate_limits_per_s` for
//!   endpoints paced apart; 0 = none), governor's GCRA with a burst of the rate (at least 1), so
//!   we pace ourselves under the vendor's limits instead of collecting 429s; a call never waits
//!   past its deadline: when the wait would reach it, the call is refused as rate limited;
//! - a circuit breaker: `breaker_failures` consecutive failures (timeouts, refused connections,
//!   5xx, cut-off bodies) open it; while open, calls fail at once without reaching the vendor;
//!   after `breaker_cooldown_ms` one trial call is let through (half-open) and its outcome
//!   closes or re-opens it. A trial whose caller goes away before it ends (its future dropped)
//!   gives its place back ([`Admitted`]), so the breaker never waits for an outcome that never
//!   comes;
//! - a refusal latch: once the vendor refuses our credentials (auth failed, access denied, IP
//!   blocked), every call is held for `auth_refusal_cooldown_s` and fails at once with the
//!   refusal's code: sending a refused key again is refused again, and repeats get us blocked;
//! - a rate-limit hold, its sibling: once the vendor answers 429, no call goes out until the
//!   time its `Retry-After` gives (seconds or an HTTP date; at most [`LONGEST_RATE_LIMIT_HOLD`]),
//!   or for `rate_limited_hold_ms` without one. A call that meanwhile would wait past its
//!   deadline fails at once as rate limited, with the time left; one whose deadline is later
//!   waits for the hold to end (a write too: it was never sent, so waiting is not a retry). A
//!   429 about one resource (TrackRU's `realtime`, for one parcel) holds nothing (see
//!   `Transport::with_per_resource_429`);
//! - retries for reads only (writes are never repeated automatically): at most `read_retries`,
//!   with full-jitter exponential backoff from `retry_base_ms`, a `Retry-After` honoured when it
//!   fits the deadline, and a retry budget (one retry per ten calls, after a small reserve) so
//!   retries cannot multiply an outage. Refusals (auth, `ipBlocked`, `accessDenied`, bad
//!   requests) are never retried.

use parking_lot::Mutex;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use governor::clock::Clock;
use tokio::sync::Semaphore;

use crate::settings::VendorHttp;
use crate::ErrorCode;

// Settings are read from `VendorHttp::resilience`.

/// The breaker's state, as `vendors` and metrics show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

#[derive(Debug)]
enum Breaker {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { trial_running: bool },
}

/// Whether the breaker lets a call through now.
#[derive(Debug)]
pub enum Admission<'a> {
    /// Make the call, and report its outcome through the guard.
    Go(Admitted<'a>),
    /// Open: fail fast; it half-opens in this long.
    Refused(Duration),
}

/// A call the breaker let through. [`Admitted::record`] reports its outcome. Dropped without
/// one (the caller went away mid-call: a probe or a client that gave up), a half-open trial is
/// released, so the next call becomes the trial instead of every call failing fast forever.
#[derive(Debug)]
#[must_use = "report the call's outcome with `record`"]
pub struct Admitted<'a> {
    resilience: &'a Resilience,
    /// This call is the half-open breaker's one trial, its outcome not yet reported.
    trial: bool,
}

impl Admitted<'_> {
    /// Reports the call's outcome (`failed`: the vendor looked unhealthy).
    pub fn record(mut self, failed: bool) {
        self.trial = false; // reported: nothing to release on drop
        self.resilience.record(failed);
    }
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        if self.trial {
            self.resilience.release_trial();
        }
    }
}

/// A refusal of our credentials that holds every call to the vendor until `until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The refusal's stable code: `VENDOR_AUTH_FAILED`, `VENDOR_ACCESS_DENIED` or
    /// `VENDOR_IP_BLOCKED`.
    pub code: ErrorCode,
    /// What the vendor answered (its own code and message, or the HTTP status).
    pub message: String,
    /// When calls go out again (on tokio's clock, which tests can pause and advance).
    pub until: tokio::time::Instant,
}

impl Refusal {
    /// How long calls stay held.
    pub fn remaining(&self) -> Duration {
        self.until
            .saturating_duration_since(tokio::time::Instant::now())
    }
}

/// The longest a `Retry-After` holds calls: a vendor's (or a proxy's) answer of a day, or of
/// 2⁶⁴ seconds, is read as an hour, after which one call asks again.
pub const LONGEST_RATE_LIMIT_HOLD: Duration = Duration::from_secs(3_600);

/// The vendor asked us to slow down (HTTP 429): no call to it is sent before `until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitHold {
    /// The call the vendor answered with the 429 that set (or last extended) the hold.
    pub endpoint: &'static str,
    /// When calls go out again (on tokio's clock, which tests can pause and advance).
    pub until: tokio::time::Instant,
}

impl RateLimitHold {
    /// How long calls stay held.
    pub fn remaining(&self) -> Duration {
        self.until
            .saturating_duration_since(tokio::time::Instant::now())
    }
}

/// Tokio's clock, for the rate limiters: real time in production, and in tests the clock that
/// `tokio::time::pause` stops and `advance` moves, the same one `tokio::time::sleep` waits on.
/// Its instants are the time since the limiter was made (governor's `Reference` for `Duration`).
#[derive(Debug, Clone)]
struct TokioClock(tokio::time::Instant);

impl Clock for TokioClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        self.0.elapsed()
    }
}

/// A GCRA rate limiter on [`TokioClock`].
type Limiter = governor::RateLimiter<
    governor::state::NotKeyed,
    governor::state::InMemoryState,
    TokioClock,
    governor::middleware::NoOpMiddleware<Duration>,
>;

/// A limiter for `per_second` calls with a burst of `max(1, per_second)` (fractional rates
/// like 0.5/s allowed); `None` for 0 (no limit).
fn limiter(per_second: f64) -> Option<Limiter> {
    if per_second.is_nan() || per_second <= 0.0 {
        return None;
    }
    // One call per period (slower than once a year counts as once a year: governor counts in
    // u64 nanoseconds). A period under a nanosecond (over 10⁹ calls/s) limits nothing.
    const SLOWEST_PERIOD_S: f64 = 365.0 * 86_400.0;
    let period = Duration::from_secs_f64((1.0 / per_second).min(SLOWEST_PERIOD_S));
    let burst = NonZeroU32::new(per_second as u32).unwrap_or(NonZeroU32::MIN);
    let quota = governor::Quota::with_period(period)?.allow_burst(burst);
    Some(governor::RateLimiter::direct_with_clock(
        quota,
        TokioClock(tokio::time::Instant::now()),
    ))
}

/// In tenths of a retry, so that ten calls earn exactly one.
#[derive(Debug)]
struct RetryBudget {
    tenths: u32,
}

/// Ten retries in reserve; each call earns a tenth of one back.
const BUDGET_RESERVE_TENTHS: u32 = 100;
const RETRY_COST_TENTHS: u32 = 10;

/// The resilience state of one vendor.
#[derive(Debug)]
pub struct Resilience {
    pub(super) permits: Semaphore,
    breaker: Mutex<Breaker>,
    /// The vendor's rate limit (`rate_limit_per_s`).
    limiter: Option<Limiter>,
    /// Endpoints paced by their own limiter instead of `limiter`.
    endpoint_limiters: std::collections::HashMap<String, Limiter>,
    budget: Mutex<RetryBudget>,
    breaker_failures: u32,
    cooldown: Duration,
    /// The latched refusal of our credentials, if any (it may have expired).
    refusal: Mutex<Option<Refusal>>,
    refusal_cooldown: Duration,
    /// The hold after the vendor's last 429, if any (it may have expired).
    rate_limit_hold: Mutex<Option<RateLimitHold>>,
    /// The hold after a 429 without a `Retry-After` (`rate_limited_hold_ms`).
    default_rate_limit_hold: Duration,
    pub(super) read_retries: u32,
    pub(super) retry_base: Duration,
    jitter: Mutex<crate::rng::Rng>,
}

impl Resilience {
    pub fn new(http: &VendorHttp) -> Self {
        let settings = &http.resilience;
        Resilience {
            permits: Semaphore::new(settings.max_concurrency.max(1)),
            breaker: Mutex::new(Breaker::Closed { failures: 0 }),
            limiter: limiter(settings.rate_limit_per_s),
            endpoint_limiters: settings
                .endpoint_rate_limits_per_s
                .iter()
                .filter_map(|(endpoint, &rate)| Some((endpoint.clone(), limiter(rate)?)))
                .collect(),
            budget: Mutex::new(RetryBudget {
                tenths: BUDGET_RESERVE_TENTHS,
            }),
            breaker_failures: settings.breaker_failures.max(1),
            cooldown: Duration::from_millis(settings.breaker_cooldown_ms),
            refusal: Mutex::new(None),
            refusal_cooldown: Duration::from_secs(settings.auth_refusal_cooldown_s),
            rate_limit_hold: Mutex::new(None),
            default_rate_limit_hold: Duration::from_millis(settings.rate_limited_hold_ms),
            read_retries: settings.read_retries,
            retry_base: Duration::from_millis(settings.retry_base_ms),
            // Jitter only has to differ between processes, not be unpredictable.
            jitter: Mutex::new(crate::rng::Rng::new(u64::from(std::process::id()))),
        }
    }

    pub fn breaker_state(&self) -> BreakerState {
        match *self.breaker.lock() {
            Breaker::Closed { .. } => BreakerState::Closed,
            Breaker::Open { until } if Instant::now() < until => BreakerState::Open,
            Breaker::Open { .. } | Breaker::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Asks the breaker for a call; a half-open breaker lets one trial through at a time.
    pub fn admit(&self) -> Admission<'_> {
        let mut b = self.breaker.lock();
        let trial = match *b {
            Breaker::Closed { .. } => false,
            Breaker::Open { until } => {
                let now = Instant::now();
                if now < until {
                    return Admission::Refused(until - now);
                }
                true
            }
            Breaker::HalfOpen {
                trial_running: false,
            } => true,
            Breaker::HalfOpen {
                trial_running: true,
            } => return Admission::Refused(Duration::ZERO),
        };
        if trial {
            *b = Breaker::HalfOpen {
                trial_running: true,
            };
        }
        Admission::Go(Admitted {
            resilience: self,
            trial,
        })
    }

    /// Records an admitted call's outcome (`failed`: the vendor looked unhealthy).
    fn record(&self, failed: bool) {
        let mut b = self.breaker.lock();
        *b = match (&*b, failed) {
            (_, false) => Breaker::Closed { failures: 0 },
            (Breaker::Closed { failures }, true) if failures + 1 < self.breaker_failures => {
                Breaker::Closed {
                    failures: failures + 1,
                }
            }
            _ => Breaker::Open {
                until: Instant::now() + self.cooldown,
            },
        };
    }

    /// A trial ended without an outcome: the next call may be the trial. (If another call's
    /// outcome already closed or re-opened the breaker, that stands.)
    fn release_trial(&self) {
        if let Breaker::HalfOpen { trial_running } = &mut *self.breaker.lock() {
            *trial_running = false;
        }
    }

    /// Holds every call for `auth_refusal_cooldown_s` (unless 0): the vendor refused our
    /// credentials with `code`, saying `message`.
    pub fn latch_refusal(&self, code: ErrorCode, message: String) {
        if self.refusal_cooldown.is_zero() {
            return;
        }
        *self.refusal.lock() = Some(Refusal {
            code,
            message,
            until: tokio::time::Instant::now() + self.refusal_cooldown,
        });
    }

    /// The refusal holding calls now, if any.
    pub fn refusal(&self) -> Option<Refusal> {
        let mut latched = self.refusal.lock();
        if latched
            .as_ref()
            .is_some_and(|r| r.until <= tokio::time::Instant::now())
        {
            *latched = None;
        }
        latched.clone()
    }

    /// Holds every call after the vendor answered `endpoint` with a 429 that asked us to wait
    /// `asked` (its `Retry-After`; `None`: `rate_limited_hold_ms`), at most
    /// [`LONGEST_RATE_LIMIT_HOLD`]. A hold is never shortened: a call that was in flight when
    /// the hold began may come back with a smaller `Retry-After`. `None` when nothing is held
    /// (a `Retry-After` of 0, or no default hold).
    pub fn hold_after_429(
        &self,
        endpoint: &'static str,
        asked: Option<Duration>,
    ) -> Option<RateLimitHold> {
        let wait = asked
            .unwrap_or(self.default_rate_limit_hold)
            .min(LONGEST_RATE_LIMIT_HOLD);
        let until = tokio::time::Instant::now() + wait;
        let mut held = self.rate_limit_hold.lock();
        match &*held {
            Some(longer) if longer.until >= until => {}
            _ if wait.is_zero() => {}
            _ => *held = Some(RateLimitHold { endpoint, until }),
        }
        held.clone()
            .filter(|h| h.until > tokio::time::Instant::now())
    }

    /// The hold after the vendor's last 429, while it lasts.
    pub fn rate_limit_hold(&self) -> Option<RateLimitHold> {
        let mut held = self.rate_limit_hold.lock();
        if held
            .as_ref()
            .is_some_and(|h| h.until <= tokio::time::Instant::now())
        {
            *held = None;
        }
        held.clone()
    }

    /// Waits (on tokio's clock) for the rate-limit hold to end, unless it would last until
    /// `deadline`: then waits not at all and answers the hold.
    pub async fn wait_out_rate_limit_hold(&self, deadline: Instant) -> Result<(), RateLimitHold> {
        // A loop: a 429 that landed while this call waited may have extended the hold.
        while let Some(hold) = self.rate_limit_hold() {
            let ends_in_time = Instant::now()
                .checked_add(hold.remaining())
                .is_some_and(|end| end < deadline);
            if !ends_in_time {
                return Err(hold);
            }
            tokio::time::sleep_until(hold.until).await;
        }
        Ok(())
    }

    /// The limiter that paces `endpoint`: its own, else the vendor's.
    fn limiter_of(&self, endpoint: &str) -> Option<&Limiter> {
        self.endpoint_limiters
            .get(endpoint)
            .or(self.limiter.as_ref())
    }

    /// Takes the rate limit's permission for a call to `endpoint` now, or says how long until
    /// one is free (taking nothing). Always `Ok` without a limit.
    pub fn rate_check(&self, endpoint: &str) -> Result<(), Duration> {
        let Some(limiter) = self.limiter_of(endpoint) else {
            return Ok(());
        };
        limiter
            .check()
            .map_err(|not_until| not_until.wait_time_from(Clock::now(limiter.clock())))
    }

    /// Waits (on tokio's clock) until the rate limit lets a call to `endpoint` go. When the wait
    /// would reach `deadline`, waits not at all and answers the wait; a call refused so takes
    /// nothing from the limit.
    pub async fn rate_pace(&self, endpoint: &str, deadline: Instant) -> Result<(), Duration> {
        loop {
            match self.rate_check(endpoint) {
                Ok(()) => return Ok(()),
                Err(wait) if Instant::now() + wait >= deadline => return Err(wait),
                // Nothing is reserved while we sleep: a call that started meanwhile may take the
                // permission first, and then we wait again (the deadline still holds).
                Err(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// Every call earns a little retry budget.
    pub fn earn_budget(&self) {
        let mut b = self.budget.lock();
        b.tenths = (b.tenths + 1).min(BUDGET_RESERVE_TENTHS);
    }

    /// Takes one retry from the budget, if there is one.
    pub fn spend_budget(&self) -> bool {
        let mut b = self.budget.lock();
        if b.tenths >= RETRY_COST_TENTHS {
            b.tenths -= RETRY_COST_TENTHS;
            true
        } else {
            false
        }
    }

    /// Full-jitter exponential backoff before retry number `retry` (1-based).
    pub fn backoff(&self, retry: u32) -> Duration {
        let cap = self.retry_base.saturating_mul(1 << retry.min(10));
        let millis = cap.as_millis() as u64;
        Duration::from_millis(self.jitter.lock().below(millis + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::VendorResilience;

    fn with(resilience: VendorResilience) -> VendorHttp {
        VendorHttp {
            base_url: "http://localhost".into(),
            connect_timeout_ms: 100,
            timeout_ms: 100,
            resilience,
        }
    }

    fn settings() -> VendorResilience {
        VendorResilience {
            max_concurrency: 4,
            rate_limit_per_s: 0.0,
            read_retries: 2,
            retry_base_ms: 10,
            breaker_failures: 3,
            breaker_cooldown_ms: 0,
            auth_refusal_cooldown_s: 300,
            rate_limited_hold_ms: 1_000,
            endpoint_rate_limits_per_s: Default::default(),
        }
    }

    fn go(admission: Admission<'_>) -> Admitted<'_> {
        match admission {
            Admission::Go(admitted) => admitted,
            Admission::Refused(in_) => panic!("refused (half-opens in {in_:?})"),
        }
    }

    #[test]
    fn the_breaker_opens_after_consecutive_failures_and_half_opens_for_one_trial() {
        let r = Resilience::new(&with(VendorResilience {
            breaker_cooldown_ms: 60_000,
            ..settings()
        }));
        r.record(true);
        r.record(true);
        r.record(false); // a success resets the count
        r.record(true);
        r.record(true);
        assert_eq!(r.breaker_state(), BreakerState::Closed);
        r.record(true);
        assert_eq!(r.breaker_state(), BreakerState::Open);
        assert!(matches!(r.admit(), Admission::Refused(_)));

        let r = Resilience::new(&with(settings())); // no cool-down: half-opens at once
        for _ in 0..3 {
            r.record(true);
        }
        let trial = go(r.admit());
        assert!(
            matches!(r.admit(), Admission::Refused(_)),
            "one trial at a time"
        );
        trial.record(false);
        assert_eq!(r.breaker_state(), BreakerState::Closed);
        go(r.admit()).record(false);
    }

    #[test]
    fn a_trial_dropped_without_an_outcome_lets_the_next_call_be_the_trial() {
        let r = Resilience::new(&with(settings())); // no cool-down: half-opens at once
        let before_the_outage = go(r.admit());
        for _ in 0..3 {
            r.record(true);
        }
        let trial = go(r.admit());
        drop(before_the_outage);
        assert!(
            matches!(r.admit(), Admission::Refused(_)),
            "an older call going away does not release the trial"
        );
        drop(trial); // its caller went away
        assert_eq!(r.breaker_state(), BreakerState::HalfOpen);
        let next = go(r.admit());
        assert!(
            matches!(r.admit(), Admission::Refused(_)),
            "the next call is the one trial"
        );
        next.record(false);
        assert_eq!(r.breaker_state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_holds_calls_until_its_cooldown_ends() {
        let r = Resilience::new(&with(settings()));
        assert_eq!(r.refusal(), None);
        r.latch_refusal(
            ErrorCode::VendorAccessDenied,
            "accessDenied: wrong key".into(),
        );
        let held = r.refusal().expect("latched");
        assert_eq!(held.code, ErrorCode::VendorAccessDenied);
        assert_eq!(held.remaining(), Duration::from_secs(300));
        tokio::time::advance(Duration::from_secs(299)).await;
        assert_eq!(
            r.refusal(),
            Some(held),
            "still held a second before the end"
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(r.refusal(), None, "calls go out again");

        let off = Resilience::new(&with(VendorResilience {
            auth_refusal_cooldown_s: 0,
            ..settings()
        }));
        off.latch_refusal(ErrorCode::VendorAuthFailed, "4001: Invalid API key.".into());
        assert_eq!(off.refusal(), None, "0 disables the latch");
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_holds_calls_until_its_retry_after_ends() {
        let r = Resilience::new(&with(settings()));
        assert_eq!(r.rate_limit_hold(), None);
        let held = r
            .hold_after_429("returns/search", Some(Duration::from_secs(120)))
            .expect("held");
        assert_eq!(held.endpoint, "returns/search");
        assert_eq!(held.remaining(), Duration::from_secs(120));
        assert_eq!(
            r.hold_after_429("returns/get", Some(Duration::from_secs(5))),
            Some(held.clone()),
            "a shorter Retry-After (a call that was in flight) does not shorten the hold"
        );
        tokio::time::advance(Duration::from_secs(119)).await;
        assert_eq!(
            r.rate_limit_hold(),
            Some(held),
            "still held a second before the end"
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(
            r.rate_limit_hold(),
            None,
            "calls go out when Retry-After said"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_retry_after_the_default_hold_applies_and_a_huge_one_is_capped() {
        let r = Resilience::new(&with(settings()));
        let held = r.hold_after_429("x", None).expect("rate_limited_hold_ms");
        assert_eq!(held.remaining(), Duration::from_secs(1));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(
            r.hold_after_429("x", Some(Duration::ZERO)),
            None,
            "Retry-After: 0"
        );
        let held = r
            .hold_after_429("x", Some(Duration::from_secs(u64::MAX)))
            .expect("held");
        assert_eq!(held.remaining(), LONGEST_RATE_LIMIT_HOLD);

        let off = Resilience::new(&with(VendorResilience {
            rate_limited_hold_ms: 0,
            ..settings()
        }));
        assert_eq!(off.hold_after_429("x", None), None, "0: no default hold");
        assert!(off
            .hold_after_429("x", Some(Duration::from_secs(2)))
            .is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_waits_out_a_hold_ending_before_its_deadline_and_fails_fast_otherwise() {
        let r = Resilience::new(&with(settings()));
        r.hold_after_429("x", Some(Duration::from_secs(120)));
        let start = tokio::time::Instant::now();
        let soon = Instant::now() + Duration::from_secs(30);
        let held = r
            .wait_out_rate_limit_hold(soon)
            .await
            .expect_err("the hold outlasts a 30 s deadline");
        assert_eq!(held.remaining(), Duration::from_secs(120));
        assert_eq!(start.elapsed(), Duration::ZERO, "refused without waiting");

        let later = Instant::now() + Duration::from_secs(300);
        assert_eq!(r.wait_out_rate_limit_hold(later).await, Ok(()));
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(120),
            "waited until the hold ended, no longer"
        );
    }

    /// How many calls to `endpoint` the rate limit lets go now (of at most 10).
    fn free_now(r: &Resilience, endpoint: &str) -> usize {
        (0..10)
            .take_while(|_| r.rate_check(endpoint).is_ok())
            .count()
    }

    // The limiters run on tokio's clock: paused, time moves only when a test advances it.
    #[tokio::test(start_paused = true)]
    async fn the_rate_limit_spaces_calls() {
        let r = Resilience::new(&with(VendorResilience {
            rate_limit_per_s: 2.0,
            ..settings()
        }));
        assert_eq!(free_now(&r, "x"), 2, "a burst of two, then a wait");
        let wait = r.rate_check("x").expect_err("limited");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(500),
            "{wait:?}"
        );
        tokio::time::advance(wait - Duration::from_millis(1)).await;
        assert_eq!(free_now(&r, "x"), 0, "not before the wait is over");
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(free_now(&r, "x"), 1, "then one call");
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(free_now(&r, "x"), 2, "idle time refills the burst, no more");

        let unlimited = Resilience::new(&with(settings()));
        assert_eq!(free_now(&unlimited, "x"), 10, "0 = no limit");
    }

    #[tokio::test(start_paused = true)]
    async fn a_fractional_rate_lets_a_call_through_every_so_often() {
        let r = Resilience::new(&with(VendorResilience {
            rate_limit_per_s: 0.5,
            ..settings()
        }));
        assert_eq!(free_now(&r, "x"), 1, "a burst of at least one");
        tokio::time::advance(Duration::from_millis(1_999)).await;
        assert_eq!(free_now(&r, "x"), 0);
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(free_now(&r, "x"), 1, "one call every two seconds");
    }

    #[tokio::test(start_paused = true)]
    async fn pacing_waits_within_the_deadline_and_refuses_past_it() {
        let r = Resilience::new(&with(VendorResilience {
            rate_limit_per_s: 1.0,
            ..settings()
        }));
        let start = tokio::time::Instant::now();
        let soon = Instant::now() + Duration::from_millis(100);
        assert_eq!(r.rate_pace("x", soon).await, Ok(()));
        let wait = r
            .rate_pace("x", soon)
            .await
            .expect_err("a second would pass the deadline");
        assert!(wait > Duration::from_millis(100), "{wait:?}");
        assert_eq!(start.elapsed(), Duration::ZERO, "refused without waiting");

        let later = Instant::now() + Duration::from_secs(10);
        assert_eq!(r.rate_pace("x", later).await, Ok(()), "waits its turn");
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        assert_eq!(
            free_now(&r, "x"),
            0,
            "the refused call took nothing; the one that waited took its turn"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_endpoint_with_its_own_limit_is_paced_apart() {
        // TrackRU: about 1 call/s, realtime lookups 3/s.
        let r = Resilience::new(&with(VendorResilience {
            rate_limit_per_s: 1.0,
            endpoint_rate_limits_per_s: [("trackings/realtime".to_owned(), 3.0)].into(),
            ..settings()
        }));
        assert_eq!(
            free_now(&r, "trackings/realtime"),
            3,
            "three realtime calls at once, then waits"
        );
        assert_eq!(
            free_now(&r, "trackings/get"),
            1,
            "realtime calls did not use the vendor's token, and the vendor's 1/s applies to the rest"
        );
        assert_eq!(
            free_now(&r, "trackings/list"),
            0,
            "one limit for every other endpoint"
        );
        tokio::time::advance(Duration::from_millis(334)).await;
        assert_eq!(
            free_now(&r, "trackings/realtime"),
            1,
            "3/s: one more after a third of a second"
        );
        assert_eq!(free_now(&r, "trackings/get"), 0);
        tokio::time::advance(Duration::from_millis(666)).await;
        assert_eq!(free_now(&r, "trackings/get"), 1);
    }

    #[test]
    fn the_retry_budget_runs_out_and_refills_with_calls() {
        let r = Resilience::new(&with(settings()));
        let spent = (0..20).filter(|_| r.spend_budget()).count();
        assert_eq!(spent, 10, "the reserve");
        for _ in 0..10 {
            r.earn_budget();
        }
        assert!(r.spend_budget(), "ten calls earn one retry");
        assert!(!r.spend_budget());
    }
}
