//! ISO code lists the gateway validates input against before any vendor sees it.

/// ISO-3166-1 alpha-2, every officially assigned code.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN \
BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG \
EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE \
IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD \
ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG \
PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ \
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// ISO-4217 active currency codes.
const CURRENCIES: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD \
BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP \
GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP \
LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK \
PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND \
TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG";

/// ISO-4217 currencies without minor units (fund codes included: vendors may send them).
const NO_DECIMALS: &str = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF";
/// ISO-4217 currencies with three decimals.
const THREE_DECIMALS: &str = "BHD IQD JOD KWD LYD OMR TND";
/// ISO-4217 currencies with four decimals (units of account).
const FOUR_DECIMALS: &str = "CLF UYW";

/// How many decimals the currency's amounts are written with (its ISO-4217 minor units); 2 for
/// every other currency, known or not.
pub fn minor_units(currency: &str) -> u32 {
    let code = currency.trim().to_ascii_uppercase();
    let listed = |list: &str| list.split(' ').any(|c| c == code);
    if listed(NO_DECIMALS) {
        0
    } else if listed(THREE_DECIMALS) {
        3
    } else if listed(FOUR_DECIMALS) {
        4
    } else {
        2
    }
}

/// The upper-cased code when `raw` is an assigned ISO-3166 alpha-2 country code.
pub fn country_code(raw: &str) -> Option<String> {
    let code = raw.trim().to_ascii_uppercase();
    (code.len() == 2 && COUNTRIES.split(' ').any(|c| c == code)).then_some(code)
}

/// The upper-cased code when `raw` is an active ISO-4217 currency code.
pub fn currency_code(raw: &str) -> Option<String> {
    let code = raw.trim().to_ascii_uppercase();
    (code.len() == 3 && CURRENCIES.split(' ').any(|c| c == code)).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_checked_against_the_lists() {
        assert_eq!(country_code(" gr "), Some("GR".into()));
        assert_eq!(country_code("XX"), None);
        assert_eq!(country_code("GRC"), None);
        assert_eq!(currency_code("eur"), Some("EUR".into()));
        assert_eq!(currency_code("EURO"), None);
        assert_eq!(currency_code("ABC"), None);
        assert!(COUNTRIES.split(' ').all(|c| c.len() == 2));
        assert!(CURRENCIES.split(' ').all(|c| c.len() == 3));
        assert_eq!(COUNTRIES.split(' ').count(), 249);
    }

    #[test]
    fn minor_units_follow_iso_4217() {
        for (currency, units) in [
            ("EUR", 2),
            ("usd", 2),
            ("JPY", 0),
            ("KRW", 0),
            ("XOF", 0),
            ("BHD", 3),
            ("IQD", 3),
            ("JOD", 3),
            ("KWD", 3),
            ("LYD", 3),
            ("OMR", 3),
            ("TND", 3),
            ("CLF", 4),
            ("XYZ", 2),
            ("", 2),
        ] {
            assert_eq!(minor_units(currency), units, "{currency}");
        }
        // Every code listed with other minor units is a currency (or a fund code).
        for code in [NO_DECIMALS, THREE_DECIMALS, FOUR_DECIMALS]
            .iter()
            .flat_map(|l| l.split(' '))
        {
            assert!(
                currency_code(code).is_some() || ["UYI", "CLF", "UYW"].contains(&code),
                "{code}"
            );
        }
    }
}
