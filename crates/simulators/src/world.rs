//! The simulated world: one deterministic set of customers, orders, parcels and returns that the
//! five simulators each serve in their own vendor's shape.
//!
//! Cross-vendor keys line up as they do in reality: a MerchantPro order's `channel_ref_id` is the
//! order reference ProCarrier, V-Track (`web_order_id`) and TrackRU (`order_id`) carry; outbound
//! parcels' tracking numbers are MerchantPro `shipping_awb`s, V-Track vouchers and TrackRU
//! trackings; return parcels are ProCarrier `TrackingNumber`s tracked in TrackRU too; and the same
//! person's e-mail and phone recur everywhere, each vendor writing them its own way. RRR's
//! `order_id` is the marketplace's own order number, no key of any other vendor.

use chrono::{DateTime, Duration, DurationRound, FixedOffset};

pub use vendors::clock::Clock;
pub use vendors::rng::Rng;

#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub first_name: String,
    pub last_name: String,
    /// Canonical, lower-case. Vendors write it their own way (V-Track upper-cases some).
    pub email: String,
    /// E.164. V-Track writes Greek mobiles without `+30`.
    pub phone: String,
    /// ISO alpha-2.
    pub country: &'static str,
    pub city: &'static str,
    pub region: &'static str,
    pub postal_code: String,
    pub street: String,
}

impl Person {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub sku: String,
    pub name: &'static str,
    /// Price in cents of the order's currency.
    pub price_cents: i64,
    pub weight_grams: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderLine {
    pub id: u64,
    pub product: Product,
    pub quantity: u32,
}

/// An order of the shop (MerchantPro). Every return in the world belongs to one.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// MerchantPro `id`.
    pub id: u64,
    /// Channel order reference (`channel_ref_id`), used by every other vendor.
    pub reference: String,
    pub customer: usize,
    pub created_at: DateTime<FixedOffset>,
    pub currency: &'static str,
    pub lines: Vec<OrderLine>,
    pub shipping_cents: i64,
    /// The outbound parcel ([`World::parcels`] index) and its tracking number (`shipping_awb`).
    pub parcel: usize,
    pub payment_status: &'static str,
    pub shipping_status: &'static str,
}

impl Order {
    pub fn total_cents(&self) -> i64 {
        self.lines
            .iter()
            .map(|l| l.product.price_cents * i64::from(l.quantity))
            .sum::<i64>()
            + self.shipping_cents
    }
}

/// Which vendor holds a return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnChannel {
    /// A return label booked with ProCarrier; the parcel is tracked (also in TrackRU).
    ProCarrier,
    /// A marketplace return request with refunds (RRR).
    Rrr,
    /// An outbound parcel the recipient did not collect or refused, returned to sender (V-Track).
    VTrack,
}

/// Where a return stands, vendor-neutral; each simulator writes it in its own codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Requested,
    InTransit,
    Received,
    Refunded,
    Rejected,
    Cancelled,
    Exception,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReturnLine {
    /// Index into the order's lines.
    pub line: usize,
    pub quantity: u32,
    pub reason: &'static str,
    /// ProCarrier `Reason.Action`.
    pub action: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Refund {
    pub id: u64,
    /// RRR refund status (`PAID_OUT`, `PENDING`, ...).
    pub status: &'static str,
    pub amount_cents: i64,
    pub created_at: DateTime<FixedOffset>,
    pub paid_at: Option<DateTime<FixedOffset>>,
    pub invoice_number: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Return {
    pub channel: ReturnChannel,
    /// The holding vendor's id (ProCarrier `Id`, RRR `id`; V-Track has none: the voucher).
    pub id: u64,
    pub order: usize,
    /// The parcel going back ([`World::parcels`] index). For V-Track it is the outbound parcel.
    pub parcel: usize,
    pub created_at: DateTime<FixedOffset>,
    pub stage: Stage,
    pub lines: Vec<ReturnLine>,
    /// V-Track: the recipient refused the parcel (otherwise it went unclaimed).
    pub refused: bool,
    pub service_id: u32,
    pub refunds: Vec<Refund>,
    /// RRR: the marketplace's own number of the order returned (its `order_id`), from the
    /// marketplace's numbering, not the shop's.
    pub marketplace_order: Option<u64>,
}

/// Parcel milestones, vendor-neutral; ProCarrier writes them as its numeric codes and TrackRU
/// as TrackingMore-style status strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Milestone {
    Registered,
    PickedUp,
    Hub,
    FinalHub,
    OutForDelivery,
    Delivered,
    AttemptFailed,
    Delayed,
    Lost,
    ReturnedToSender,
    CancelRequested,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParcelEvent {
    pub id: u64,
    pub at: DateTime<FixedOffset>,
    pub milestone: Milestone,
    pub city: &'static str,
    pub country: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Parcel {
    pub tracking_number: String,
    /// TrackRU / TrackingMore carrier code.
    pub carrier_code: &'static str,
    pub carrier_name: &'static str,
    pub order: usize,
    /// True for a return parcel (customer → shop).
    pub is_return: bool,
    pub events: Vec<ParcelEvent>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub id: u32,
    pub name: &'static str,
    /// `home_collection` or `drop_off`.
    pub kind: &'static str,
    pub carrier: &'static str,
    pub countries: &'static [&'static str],
}

/// Opening hours per weekday (Monday first), as minute ranges; `None` means closed.
pub type WeekHours = [Option<Vec<(u16, u16)>>; 7];

#[derive(Debug, Clone, PartialEq)]
pub struct DropOffPoint {
    pub id: u32,
    pub service_id: u32,
    pub carrier: &'static str,
    pub title: String,
    pub address: String,
    pub city: &'static str,
    pub country: &'static str,
    pub lat: f64,
    pub lng: f64,
    pub hours: WeekHours,
}

#[derive(Debug, Clone, PartialEq)]
pub struct World {
    pub seed: u64,
    /// The simulated present: everything in the world happened before it. The simulators stamp
    /// what callers create with [`World::clock`], which runs on from here.
    pub now: DateTime<FixedOffset>,
    pub clock: Clock,
    pub people: Vec<Person>,
    pub orders: Vec<Order>,
    pub parcels: Vec<Parcel>,
    pub returns: Vec<Return>,
    pub services: Vec<Service>,
    pub dropoff_points: Vec<DropOffPoint>,
}

const FIRST: &[&str] = &[
    "Nikos", "Maria", "Giorgos", "Eleni", "Tasos", "Katerina", "Dimitris", "Sofia", "Jonas",
    "Ruta", "Marco", "Giulia", "Anna", "Piotr", "Eva", "Lukas",
];
const LAST: &[&str] = &[
    "Nikolaou",
    "Papadopoulou",
    "Georgiou",
    "Ioannou",
    "Kazlauskas",
    "Petrauskaite",
    "Rossi",
    "Bianchi",
    "Kowalski",
    "Nowak",
    "de Vries",
    "Jansen",
    "Vasileiou",
    "Christou",
];
const DOMAINS: &[&str] = &[
    "gmail.com",
    "yahoo.gr",
    "outlook.com",
    "otenet.gr",
    "mail.lt",
];

struct Place {
    country: &'static str,
    city: &'static str,
    region: &'static str,
    lat: f64,
    lng: f64,
}

const PLACES: &[Place] = &[
    Place {
        country: "GR",
        city: "Athens",
        region: "Attica",
        lat: 37.9838,
        lng: 23.7275,
    },
    Place {
        country: "GR",
        city: "Thessaloniki",
        region: "Central Macedonia",
        lat: 40.6401,
        lng: 22.9444,
    },
    Place {
        country: "GR",
        city: "Patras",
        region: "Western Greece",
        lat: 38.2466,
        lng: 21.7346,
    },
    Place {
        country: "LT",
        city: "Vilnius",
        region: "Vilnius",
        lat: 54.6872,
        lng: 25.2797,
    },
    Place {
        country: "IT",
        city: "Bergamo",
        region: "Lombardy",
        lat: 45.6983,
        lng: 9.6773,
    },
    Place {
        country: "NL",
        city: "Amsterdam",
        region: "North Holland",
        lat: 52.3730,
        lng: 4.8923,
    },
    Place {
        country: "PL",
        city: "Warsaw",
        region: "Masovia",
        lat: 52.2297,
        lng: 21.0122,
    },
];

const PRODUCTS: &[(&str, i64, u32)] = &[
    ("Black short pants", 999, 300),
    ("Running shoes", 7990, 900),
    ("Front door window", 27511, 6000),
    ("Headlamp left", 7860, 2500),
    ("Wool sweater", 4590, 600),
    ("Leather belt", 2490, 200),
    ("Bluetooth speaker", 5999, 800),
    ("Summer dress", 3950, 350),
    ("Brake pads set", 3420, 1800),
    ("Phone case", 1290, 100),
];

const REASONS: &[(&str, &str)] = &[
    ("Does not suit me", "Refund"),
    ("Wrong size", "Exchange"),
    ("Damaged on arrival", "Refund"),
    ("Not suitable for my vehicle", "Refund"),
    ("Part not working", "Refund"),
    ("Arrived too late", "Refund"),
    ("Changed my mind", "Refund"),
];

const CARRIERS: &[(&str, &str)] = &[
    ("acs-courier", "ACS"),
    ("elta-courier", "ELTA"),
    ("dhl", "DHL"),
];

pub const SERVICES: &[Service] = &[
    Service {
        id: 101,
        name: "ACS drop-off",
        kind: "drop_off",
        carrier: "ACS",
        countries: &["GR", "CY"],
    },
    Service {
        id: 102,
        name: "ACS home collection",
        kind: "home_collection",
        carrier: "ACS",
        countries: &["GR"],
    },
    Service {
        id: 201,
        name: "DHL ServicePoint",
        kind: "drop_off",
        carrier: "DHL",
        countries: &["NL", "IT", "PL", "LT"],
    },
    Service {
        id: 202,
        name: "DHL home collection",
        kind: "home_collection",
        carrier: "DHL",
        countries: &["NL", "IT", "PL"],
    },
    Service {
        id: 301,
        name: "ELTA post office",
        kind: "drop_off",
        carrier: "ELTA",
        countries: &["GR"],
    },
];

/// How far back the world's history reaches: orders are placed over the last `HISTORY_DAYS`
/// (up to a day before `now`), and returns, parcel events and refunds follow them.
const HISTORY_DAYS: i64 = 120;

/// Greek summer time, the offset the world's dates are written in.
fn athens() -> FixedOffset {
    FixedOffset::east_opt(3 * 3600).expect("valid offset")
}

impl World {
    /// Generates the world for `seed` with `returns` returns (split 55 % ProCarrier, 25 % RRR,
    /// 20 % V-Track), about two orders per return and a customer per four orders, over the
    /// [`HISTORY_DAYS`] before `clock`'s now (taken to the minute).
    ///
    /// Everything is placed relative to that now, so one seed gives the same world at any date,
    /// shifted. Nothing lies in the future: a parcel's events end at now (a recent return is
    /// still on its way), and a return's stage and refunds are what its events reached.
    pub fn generate(seed: u64, returns: usize, clock: Clock) -> World {
        let mut rng = Rng::new(seed);
        let order_count = returns * 2 + 10;
        let people_count = (order_count / 4).max(5);
        let now = clock
            .now()
            .duration_trunc(Duration::minutes(1))
            .expect("a minute divides any date")
            .with_timezone(&athens());
        let start = now - Duration::days(HISTORY_DAYS);

        let people: Vec<Person> = (0..people_count)
            .map(|i| {
                let first = *rng.pick(FIRST);
                let last = *rng.pick(LAST);
                let place = rng.pick(PLACES);
                let local = format!(
                    "{}.{}{}",
                    first.to_lowercase(),
                    last.to_lowercase().replace(' ', ""),
                    i
                );
                let phone = match place.country {
                    "GR" => format!("+3069{:08}", rng.below(100_000_000)),
                    "LT" => format!("+3706{:07}", rng.below(10_000_000)),
                    "IT" => format!("+393{:09}", rng.below(1_000_000_000)),
                    "NL" => format!("+316{:08}", rng.below(100_000_000)),
                    _ => format!("+48{:09}", 500_000_000 + rng.below(100_000_000)),
                };
                Person {
                    first_name: first.into(),
                    last_name: last.into(),
                    email: format!("{local}@{}", rng.pick(DOMAINS)),
                    phone,
                    country: place.country,
                    city: place.city,
                    region: place.region,
                    postal_code: format!("{:05}", 10_000 + rng.below(80_000)),
                    street: format!(
                        "{} {}",
                        rng.pick(&[
                            "Ermou",
                            "Gedimino g.",
                            "Via Roma",
                            "Damrak",
                            "Marszalkowska"
                        ]),
                        1 + rng.below(120)
                    ),
                }
            })
            .collect();

        let mut parcels = Vec::new();
        let mut orders = Vec::with_capacity(order_count);
        let mut line_id = 900_000u64;
        for i in 0..order_count {
            let created_at =
                start + Duration::minutes(rng.below((HISTORY_DAYS - 1) as u64 * 24 * 60) as i64);
            let lines = (0..1 + rng.below(3))
                .map(|_| {
                    let (name, price_cents, weight_grams) = *rng.pick(PRODUCTS);
                    line_id += 1;
                    OrderLine {
                        id: line_id,
                        product: Product {
                            sku: format!("SKU{:06}", 100 + rng.below(900)),
                            name,
                            price_cents,
                            weight_grams,
                        },
                        quantity: 1 + rng.below(2) as u32,
                    }
                })
                .collect();
            let (carrier_code, carrier_name) = *rng.pick(CARRIERS);
            let parcel = Parcel {
                tracking_number: format!("50{:08}", 10_000_000 + i as u64 * 7919 % 89_000_000),
                carrier_code,
                carrier_name,
                order: i,
                is_return: false,
                events: Vec::new(),
            };
            parcels.push(parcel);
            let (payment_status, shipping_status) = *rng.pick(&[
                ("paid", "delivered"),
                ("paid", "delivered"),
                ("paid", "delivered"),
                ("paid", "delivered"),
                ("paid", "shipped"),
                ("paid", "in_process"),
                ("awaiting", "awaiting"),
                ("paid", "confirmed"),
                ("cancelled", "cancelled"),
            ]);
            orders.push(Order {
                id: 12_345_001 + i as u64,
                reference: format!("WEB{:07}", 320_000 + i as u64 * 13),
                customer: rng.below(people_count as u64) as usize,
                created_at,
                currency: "EUR",
                lines,
                shipping_cents: *rng.pick(&[0, 350, 499, 1984]),
                parcel: parcels.len() - 1,
                payment_status,
                shipping_status,
            });
        }

        // Outbound parcel events follow the order's shipping status, as far as they got by now.
        let mut event_id = 5_000_000u64;
        for order in &mut orders {
            let path: &[Milestone] = match order.shipping_status {
                "shipped" => &[Milestone::Registered, Milestone::PickedUp, Milestone::Hub],
                "delivered" => &[
                    Milestone::Registered,
                    Milestone::PickedUp,
                    Milestone::Hub,
                    Milestone::OutForDelivery,
                    Milestone::Delivered,
                ],
                "confirmed" | "in_process" => &[Milestone::Registered],
                _ => &[],
            };
            let person = &people[order.customer];
            let events = walk(&mut rng, &mut event_id, order.created_at, path, person, now);
            if events.len() < path.len() {
                // Not delivered yet: still with the shop, or on its way.
                order.shipping_status = if events.is_empty() {
                    "in_process"
                } else {
                    "shipped"
                };
            }
            parcels[order.parcel].events = events;
        }

        // Returns, only of orders that shipped; each order returns at most once.
        let mut returns = Vec::with_capacity(returns);
        let mut eligible: Vec<usize> = (0..orders.len())
            .filter(|&i| matches!(orders[i].shipping_status, "delivered" | "shipped"))
            .collect();
        let mut refund_id = 600u64;
        let mut first_rrr = true;
        for n in 0..returns.capacity() {
            if eligible.is_empty() {
                break;
            }
            let order_idx = eligible.swap_remove(rng.below(eligible.len() as u64) as usize);
            let order = &orders[order_idx];
            let person = &people[order.customer];
            let channel = match n % 20 {
                0..=10 => ReturnChannel::ProCarrier,
                11..=15 => ReturnChannel::Rrr,
                _ => ReturnChannel::VTrack,
            };
            let mut created_at = order.created_at + Duration::hours(48 + rng.below(24 * 20) as i64);
            if created_at >= now {
                // A recent order: its return was opened since, not in the future.
                created_at = order.created_at + (now - order.created_at) / 2;
            }
            let lines: Vec<ReturnLine> = (0..order.lines.len())
                .filter(|_| rng.chance(0.7))
                .chain(std::iter::once(0))
                .take(order.lines.len())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .map(|line| {
                    let (reason, action) = *rng.pick(REASONS);
                    ReturnLine {
                        line,
                        quantity: order.lines[line].quantity,
                        reason,
                        action,
                    }
                })
                .collect();
            let stage = *rng.pick(&[
                Stage::Requested,
                Stage::InTransit,
                Stage::InTransit,
                Stage::Received,
                Stage::Refunded,
                Stage::Refunded,
                Stage::Rejected,
                Stage::Cancelled,
                Stage::Exception,
            ]);
            let (parcel, stage, refused, id) = match channel {
                ReturnChannel::VTrack => {
                    // The outbound parcel came back instead of being delivered.
                    let p = order.parcel;
                    let refused = rng.chance(0.5);
                    let back_to_sender = [
                        Milestone::Registered,
                        Milestone::PickedUp,
                        Milestone::OutForDelivery,
                        Milestone::AttemptFailed,
                        Milestone::ReturnedToSender,
                    ];
                    let events = walk(
                        &mut rng,
                        &mut event_id,
                        order.created_at,
                        &back_to_sender,
                        person,
                        now,
                    );
                    if events.len() < back_to_sender.len() {
                        // Not back at the sender yet: no V-Track return (the order keeps its
                        // own delivery).
                        continue;
                    }
                    parcels[p].events = events;
                    (p, Stage::Received, refused, 0)
                }
                _ => {
                    let (carrier_code, carrier_name) = *rng.pick(CARRIERS);
                    let path: &[Milestone] = match stage {
                        Stage::Requested | Stage::Rejected => &[Milestone::Registered],
                        Stage::InTransit => {
                            &[Milestone::Registered, Milestone::PickedUp, Milestone::Hub]
                        }
                        Stage::Received | Stage::Refunded => &[
                            Milestone::Registered,
                            Milestone::PickedUp,
                            Milestone::Hub,
                            Milestone::FinalHub,
                            Milestone::Delivered,
                        ],
                        Stage::Cancelled => &[
                            Milestone::Registered,
                            Milestone::CancelRequested,
                            Milestone::Cancelled,
                        ],
                        Stage::Exception => &[
                            Milestone::Registered,
                            Milestone::PickedUp,
                            Milestone::Delayed,
                        ],
                    };
                    let events = walk(&mut rng, &mut event_id, created_at, path, person, now);
                    let stage = if events.len() < path.len() {
                        stage_reached(&events)
                    } else {
                        stage
                    };
                    parcels.push(Parcel {
                        tracking_number: format!(
                            "TRC{:09}",
                            100_000_000 + n as u64 * 104_729 % 899_999_999
                        ),
                        carrier_code,
                        carrier_name,
                        order: order_idx,
                        is_return: true,
                        events,
                    });
                    let id = match channel {
                        ReturnChannel::ProCarrier => 123_456_000 + n as u64,
                        _ => 300 + n as u64,
                    };
                    (parcels.len() - 1, stage, false, id)
                }
            };
            let (refund_at, paid_at) = (
                created_at + Duration::days(3),
                created_at + Duration::days(4),
            );
            let refunds = if channel == ReturnChannel::Rrr
                && matches!(stage, Stage::Refunded | Stage::Received)
                && refund_at < now
            {
                refund_id += 1;
                let amount_cents = lines
                    .iter()
                    .map(|l| order.lines[l.line].product.price_cents * i64::from(l.quantity))
                    .sum();
                let paid = stage == Stage::Refunded && paid_at < now;
                vec![Refund {
                    id: refund_id,
                    status: if paid { "PAID_OUT" } else { "PENDING" },
                    amount_cents,
                    created_at: refund_at,
                    paid_at: paid.then_some(paid_at),
                    invoice_number: format!("CR-{:06}", refund_id),
                }]
            } else {
                Vec::new()
            };
            // An RRR refund not paid out by now leaves the return received, not refunded.
            let stage = if stage == Stage::Refunded
                && channel == ReturnChannel::Rrr
                && !refunds.iter().any(|f| f.paid_at.is_some())
            {
                Stage::Received
            } else {
                stage
            };
            let service_id = SERVICES
                .iter()
                .find(|s| s.countries.contains(&person.country))
                .map_or(101, |s| s.id);
            let marketplace_order = (channel == ReturnChannel::Rrr).then(|| {
                // Two numberings kept apart collide now and then: the first RRR return's
                // marketplace number is also a shop order id (another order's), so a gateway
                // taking one for the other shows a false link.
                if std::mem::take(&mut first_rrr) {
                    orders[(order_idx + 1) % orders.len()].id
                } else {
                    4_206_000 + n as u64 * 7
                }
            });
            returns.push(Return {
                channel,
                id,
                order: order_idx,
                parcel,
                created_at,
                stage,
                lines,
                refused,
                service_id,
                refunds,
                marketplace_order,
            });
        }

        let mut dropoff_points = Vec::new();
        for (i, place) in PLACES.iter().enumerate() {
            for k in 0..6u32 {
                let service = SERVICES
                    .iter()
                    .filter(|s| s.kind == "drop_off" && s.countries.contains(&place.country))
                    .nth(k as usize % 2)
                    .or_else(|| {
                        SERVICES
                            .iter()
                            .find(|s| s.kind == "drop_off" && s.countries.contains(&place.country))
                    });
                let Some(service) = service else { continue };
                let weekday = Some(vec![(9 * 60, 13 * 60), (14 * 60, 18 * 60)]);
                let saturday = (k % 2 == 0).then(|| vec![(9 * 60, 14 * 60)]);
                dropoff_points.push(DropOffPoint {
                    id: 10_000 + i as u32 * 100 + k,
                    service_id: service.id,
                    carrier: service.carrier,
                    title: format!("{} {} #{}", service.carrier, place.city, k + 1),
                    address: format!(
                        "{} {}, {}",
                        rng.pick(&["Main St", "Market Sq", "Station Rd"]),
                        1 + rng.below(99),
                        place.city
                    ),
                    city: place.city,
                    country: place.country,
                    lat: place.lat + (rng.unit() - 0.5) * 0.08,
                    lng: place.lng + (rng.unit() - 0.5) * 0.08,
                    hours: [
                        weekday.clone(),
                        weekday.clone(),
                        weekday.clone(),
                        weekday.clone(),
                        weekday,
                        saturday,
                        None,
                    ],
                });
            }
        }

        World {
            seed,
            now,
            clock,
            people,
            orders,
            parcels,
            returns,
            services: SERVICES.to_vec(),
            dropoff_points,
        }
    }

    pub fn order_of(&self, r: &Return) -> &Order {
        &self.orders[r.order]
    }

    pub fn person_of(&self, o: &Order) -> &Person {
        &self.people[o.customer]
    }
}

/// Where a return whose parcel has not finished its path stands: what its last event reached.
fn stage_reached(events: &[ParcelEvent]) -> Stage {
    match events.last().map(|e| e.milestone) {
        None | Some(Milestone::Registered) | Some(Milestone::CancelRequested) => Stage::Requested,
        Some(_) => Stage::InTransit,
    }
}

/// Events along `path`, a few hours to two days apart, starting at `from`, up to `now`: the
/// milestones not reached by then are left out (the random draws are the same either way, so
/// a seed gives the same world at any date).
fn walk(
    rng: &mut Rng,
    next_id: &mut u64,
    from: DateTime<FixedOffset>,
    path: &[Milestone],
    person: &Person,
    now: DateTime<FixedOffset>,
) -> Vec<ParcelEvent> {
    let mut at = from;
    let mut events: Vec<ParcelEvent> = path
        .iter()
        .map(|&milestone| {
            at += Duration::minutes(120 + rng.below(48 * 60) as i64);
            *next_id += 1;
            let local = matches!(
                milestone,
                Milestone::OutForDelivery
                    | Milestone::Delivered
                    | Milestone::AttemptFailed
                    | Milestone::Registered
            );
            ParcelEvent {
                id: *next_id,
                at,
                milestone,
                city: if local { person.city } else { "Athens" },
                country: if local { person.country } else { "GR" },
            }
        })
        .collect();
    events.retain(|e| e.at < now);
    events
}

/// The date unit tests run at: any date works, a fixed one keeps answers reproducible.
#[cfg(test)]
pub(crate) fn test_clock() -> Clock {
    Clock::starting_at(
        DateTime::parse_from_rfc3339("2026-06-15T09:30:00Z")
            .expect("a valid date")
            .to_utc(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(date: &str) -> Clock {
        Clock::starting_at(DateTime::parse_from_rfc3339(date).unwrap().to_utc())
    }

    #[test]
    fn same_seed_same_world() {
        let clock = test_clock();
        assert_eq!(World::generate(7, 60, clock), World::generate(7, 60, clock));
        assert_ne!(
            World::generate(7, 60, clock).people,
            World::generate(8, 60, clock).people
        );
    }

    /// Every date the world holds, with what it is.
    fn dates(w: &World) -> Vec<(String, DateTime<FixedOffset>)> {
        let orders = w.orders.iter().map(|o| (o.reference.clone(), o.created_at));
        let events = w.parcels.iter().flat_map(|p| {
            p.events
                .iter()
                .map(move |e| (format!("{} {:?}", p.tracking_number, e.milestone), e.at))
        });
        let returns = w.returns.iter().flat_map(|r| {
            let refunds = r.refunds.iter().flat_map(move |f| {
                [Some(f.created_at), f.paid_at]
                    .into_iter()
                    .flatten()
                    .map(move |t| (format!("refund {}", f.id), t))
            });
            std::iter::once((format!("return {}", r.id), r.created_at)).chain(refunds)
        });
        orders.chain(events).chain(returns).collect()
    }

    #[test]
    fn the_world_lies_in_the_recent_past_of_its_clock_at_any_date() {
        for date in [
            "2024-02-29T23:59:00Z",
            "2026-06-15T09:30:00Z",
            "2031-12-31T00:00:00Z",
        ] {
            let w = World::generate(42, 540, at(date));
            let all = dates(&w);
            assert!(all.len() > 5000, "{}", all.len());
            for (what, t) in &all {
                assert!(*t < w.now, "{what} at {t} is not before {}", w.now);
                assert!(w.now - *t < Duration::days(HISTORY_DAYS), "{what} at {t}");
            }
            let last_week = w
                .returns
                .iter()
                .filter(|r| w.now - r.created_at < Duration::days(7))
                .count();
            assert!(last_week >= 5, "last week has returns: {last_week}");
        }
    }

    #[test]
    fn a_seed_gives_the_same_world_at_any_date_shifted() {
        let (a, b) = (
            World::generate(42, 200, at("2025-01-10T08:00:00Z")),
            World::generate(42, 200, at("2029-07-01T16:45:00Z")),
        );
        let shift = b.now - a.now;
        assert_eq!(a.returns.len(), b.returns.len());
        for (x, y) in dates(&a).iter().zip(dates(&b)) {
            assert_eq!((x.0.as_str(), x.1 + shift), (y.0.as_str(), y.1));
        }
        let stages = |w: &World| w.returns.iter().map(|r| r.stage).collect::<Vec<_>>();
        assert_eq!(stages(&a), stages(&b));
    }

    #[test]
    fn a_return_has_reached_only_what_its_events_reached() {
        let w = World::generate(42, 540, test_clock());
        for r in w
            .returns
            .iter()
            .filter(|r| r.channel != ReturnChannel::VTrack)
        {
            let milestones: Vec<Milestone> = w.parcels[r.parcel]
                .events
                .iter()
                .map(|e| e.milestone)
                .collect();
            if matches!(r.stage, Stage::Received | Stage::Refunded) {
                assert!(milestones.contains(&Milestone::Delivered), "{r:?}");
            }
        }
        let on_the_way_recently = w
            .returns
            .iter()
            .filter(|r| w.now - r.created_at < Duration::days(2))
            .filter(|r| matches!(r.stage, Stage::Requested | Stage::InTransit))
            .count();
        assert!(on_the_way_recently > 0);
    }

    #[test]
    fn default_world_has_enough_returns_on_every_channel() {
        let w = World::generate(42, 540, test_clock());
        assert!(w.returns.len() >= 500, "{}", w.returns.len());
        for ch in [
            ReturnChannel::ProCarrier,
            ReturnChannel::Rrr,
            ReturnChannel::VTrack,
        ] {
            assert!(
                w.returns.iter().filter(|r| r.channel == ch).count() >= 100,
                "{ch:?}"
            );
        }
        let mut numbers: Vec<_> = w.parcels.iter().map(|p| &p.tracking_number).collect();
        numbers.sort();
        numbers.dedup();
        assert_eq!(
            numbers.len(),
            w.parcels.len(),
            "tracking numbers are unique"
        );
        let mut refs: Vec<_> = w.orders.iter().map(|o| &o.reference).collect();
        refs.sort();
        refs.dedup();
        assert_eq!(refs.len(), w.orders.len(), "order references are unique");
    }

    #[test]
    fn marketplace_order_numbers_are_rrrs_own_with_one_collision() {
        let w = World::generate(42, 120, test_clock());
        let shop_ids: std::collections::BTreeSet<u64> = w.orders.iter().map(|o| o.id).collect();
        let mut numbers = Vec::new();
        for r in &w.returns {
            assert_eq!(
                r.marketplace_order.is_some(),
                r.channel == ReturnChannel::Rrr
            );
            numbers.extend(r.marketplace_order);
        }
        let colliding: Vec<u64> = numbers
            .iter()
            .copied()
            .filter(|n| shop_ids.contains(n))
            .collect();
        assert_eq!(colliding.len(), 1, "{colliding:?}");
        let collided = w
            .returns
            .iter()
            .find(|r| r.marketplace_order == Some(colliding[0]))
            .expect("the colliding return");
        assert_ne!(w.order_of(collided).id, colliding[0], "another order's id");
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(
            numbers.len(),
            w.returns
                .iter()
                .filter(|r| r.channel == ReturnChannel::Rrr)
                .count(),
            "one number per return"
        );
    }
}
