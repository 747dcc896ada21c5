//! Where and how a return can be sent (ProCarrier): drop-off points near a place, nearest
//! first, and the return services for a parcel from an address.

use vendors::model::{DropOffPoint, ReturnService};
use vendors::procarrier::wire as pc;

use super::error::{Result, ServiceError};
use super::validate;
use super::Service;

#[derive(Debug, Clone, Copy)]
pub struct Coordinates {
    /// -90 to 90.
    pub lat: f64,
    /// -180 to 180.
    pub lng: f64,
}

/// A place to search from, as the caller wrote it.
#[derive(Debug, Clone, Default)]
pub struct Place {
    /// ISO-3166 alpha-2.
    pub country: String,
    pub state: Option<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
}

impl Place {
    fn to_wire(&self, field: &str) -> Result<pc::Address> {
        Ok(pc::Address {
            country: Some(validate::country(
                &format!("{field}.country"),
                &self.country,
            )?),
            state: self.state.clone(),
            zip: self.postal_code.clone(),
            city: self.city.clone(),
            address_line1: self.line1.clone(),
            address_line2: self.line2.clone(),
            ..Default::default()
        })
    }
}

/// Where to look for drop-off points: around coordinates or at an address (exactly one).
#[derive(Debug, Clone)]
pub enum Around {
    Coordinates(Coordinates),
    Address(Place),
}

/// A drop-off point and, when searched around coordinates, how far it is.
#[derive(Debug, Clone)]
pub struct NearbyPoint {
    pub point: DropOffPoint,
    pub distance_km: Option<f64>,
}

/// Great-circle distance in kilometres.
fn haversine_km(lat1: f64, lng1: f64, lat2: f64, lng2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let (dp, dl) = ((lat2 - lat1).to_radians(), (lng2 - lng1).to_radians());
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    6371.0 * 2.0 * a.sqrt().asin()
}

impl Service {
    /// Drop-off points within `radius_km` (above 0, at most 100) of `around`, nearest first
    /// when searched by coordinates. `service_ids` narrows the services (default: every one of
    /// the account's).
    pub async fn drop_off_points(
        &self,
        around: &Around,
        radius_km: f64,
        service_ids: &[String],
    ) -> Result<Vec<NearbyPoint>> {
        if !(radius_km > 0.0 && radius_km <= 100.0) {
            return Err(ServiceError::invalid(
                "radiusKm",
                "must be above 0 and at most 100",
            ));
        }
        let services = service_ids
            .iter()
            .map(|id| {
                id.trim().parse::<i64>().map_err(|_| {
                    ServiceError::invalid("serviceIds", format!("{id:?} is not a service id"))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut filter = pc::DropOffFilter {
            services,
            radius: Some(radius_km),
            ..Default::default()
        };
        let centre = match around {
            Around::Coordinates(c) => {
                if !(-90.0..=90.0).contains(&c.lat) || !(-180.0..=180.0).contains(&c.lng) {
                    return Err(ServiceError::invalid(
                        "near",
                        "lat must be -90..90 and lng -180..180",
                    ));
                }
                filter.coordinates = Some(pc::Coordinates {
                    lat: c.lat.to_string(),
                    lng: c.lng,
                });
                Some(*c)
            }
            Around::Address(a) => {
                filter.address = Some(a.to_wire("address")?);
                None
            }
        };
        let points = self.up.procarrier_dropoff_points(filter).await?;
        let mut nearby: Vec<NearbyPoint> = points
            .iter()
            .map(|p| NearbyPoint {
                distance_km: centre.map(|c| haversine_km(c.lat, c.lng, p.lat, p.lng)),
                point: p.clone(),
            })
            .filter(|p| p.distance_km.is_none_or(|d| d <= radius_km))
            .collect();
        nearby.sort_by(|a, b| {
            a.distance_km
                .unwrap_or(0.0)
                .total_cmp(&b.distance_km.unwrap_or(0.0))
                .then_with(|| a.point.id.cmp(&b.point.id))
        });
        Ok(nearby)
    }

    /// The return services available for a parcel of `parcel_weight_kg` (above 0, at most
    /// 1000) sent from `from`.
    pub async fn return_services(
        &self,
        from: &Place,
        parcel_weight_kg: f64,
    ) -> Result<Vec<ReturnService>> {
        if !(parcel_weight_kg > 0.0 && parcel_weight_kg <= 1000.0) {
            return Err(ServiceError::invalid(
                "parcelWeightKg",
                "must be above 0 and at most 1000",
            ));
        }
        let request = pc::ServicesRequest {
            service: Some(from.to_wire("address")?),
            parcel: Some(pc::Parcel {
                weight: Some(parcel_weight_kg),
            }),
        };
        let services = self.up.procarrier_services(request).await?;
        Ok(services.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haversine_matches_known_distances() {
        // Athens to Thessaloniki, about 300 km as the crow flies.
        let d = haversine_km(37.9838, 23.7275, 40.6401, 22.9444);
        assert!((300.0..305.0).contains(&d), "{d}");
        assert_eq!(haversine_km(1.0, 2.0, 1.0, 2.0), 0.0);
    }
}
