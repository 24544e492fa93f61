//! Opening hours: parsing `"mon-fri 08:00-21:00; sat,sun 09:00-17:00"` and UTC offsets, and
//! deciding whether an instant falls inside them.

use std::ops::Range;

/// Minutes in a day; `24:00` is allowed as the end of a range.
const MINUTES_PER_DAY: u16 = 24 * 60;

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weekday {
    /// Monday
    Mon,
    /// Tuesday
    Tue,
    /// Wednesday
    Wed,
    /// Thursday
    Thu,
    /// Friday
    Fri,
    /// Saturday
    Sat,
    /// Sunday
    Sun,
}

impl Weekday {
    const ALL: [Self; 7] = [
        Self::Mon,
        Self::Tue,
        Self::Wed,
        Self::Thu,
        Self::Fri,
        Self::Sat,
        Self::Sun,
    ];

    fn index(self) -> usize {
        self as usize
    }

    fn parse(name: &str) -> Option<Self> {
        let name = name.to_ascii_lowercase();
        Self::ALL.into_iter().find(|day| {
            let short = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][day.index()];
            let long = [
                "monday",
                "tuesday",
                "wednesday",
                "thursday",
                "friday",
                "saturday",
                "sunday",
            ][day.index()];
            name == short || name == long
        })
    }
}

/// When the shop is open: per weekday, ranges of minutes since local midnight.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schedule {
    open: [Vec<Range<u16>>; 7],
}

impl Schedule {
    /// Parses rules separated by `;`, each `DAYS RANGES`: days like `mon`, `mon-fri`,
    /// `sat,sun`, `fri-mon` (wraps) or `daily`; ranges like `08:00-21:00` or
    /// `08:00-12:00,13:30-21:00`. Days not named are closed. The error names the bad part.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut schedule = Self::default();
        let rules: Vec<&str> = text
            .split(';')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .collect();
        if rules.is_empty() {
            return Err("no opening hours given (e.g. \"mon-fri 08:00-21:00\")".into());
        }
        for rule in rules {
            let (days, ranges) = rule.split_once(char::is_whitespace).ok_or_else(|| {
                format!("'{rule}' needs days and hours, e.g. \"mon-fri 08:00-21:00\"")
            })?;
            let days = parse_days(days).map_err(|bad| format!("{bad} in '{rule}'"))?;
            let ranges = parse_ranges(ranges).map_err(|bad| format!("{bad} in '{rule}'"))?;
            for day in days {
                schedule.open[day.index()].extend(ranges.iter().cloned());
            }
        }
        Ok(schedule)
    }

    /// Whether the shop is open on `day` at `minute` (minutes since local midnight); a range
    /// includes its start and excludes its end (`08:00-21:00` is closed at 21:00).
    pub fn is_open(&self, day: Weekday, minute: u16) -> bool {
        self.open[day.index()]
            .iter()
            .any(|range| range.contains(&minute))
    }
}

fn parse_days(text: &str) -> Result<Vec<Weekday>, String> {
    let bad_day =
        |name: &str| format!("bad day '{name}' (use mon, tue, wed, thu, fri, sat, sun, or daily)");
    let mut days = Vec::new();
    for part in text.split(',').map(str::trim) {
        if part.eq_ignore_ascii_case("daily") {
            days.extend(Weekday::ALL);
        } else if let Some((first, last)) = part.split_once('-') {
            let first = Weekday::parse(first.trim()).ok_or_else(|| bad_day(first))?;
            let last = Weekday::parse(last.trim()).ok_or_else(|| bad_day(last))?;
            // `fri-mon` wraps over the weekend.
            let span = (last.index() + 7 - first.index()) % 7;
            days.extend((0..=span).map(|step| Weekday::ALL[(first.index() + step) % 7]));
        } else {
            days.push(Weekday::parse(part).ok_or_else(|| bad_day(part))?);
        }
    }
    Ok(days)
}

fn parse_ranges(text: &str) -> Result<Vec<Range<u16>>, String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    compact
        .split(',')
        .map(|range| {
            let bad = || format!("bad time range '{range}' (expected HH:MM-HH:MM)");
            let (start, end) = range.split_once('-').ok_or_else(bad)?;
            let start = parse_time(start).ok_or_else(bad)?;
            let end = parse_time(end).ok_or_else(bad)?;
            if start >= end {
                return Err(format!(
                    "time range '{range}' does not end after it starts \
                     (split hours past midnight over two days)"
                ));
            }
            Ok(start..end)
        })
        .collect()
}

/// `HH:MM` (or `H:MM`) as minutes since midnight; `24:00` is the end of the day.
fn parse_time(text: &str) -> Option<u16> {
    let (hours, minutes) = text.split_once(':')?;
    if hours.is_empty() || hours.len() > 2 || minutes.len() != 2 {
        return None;
    }
    let hours: u16 = hours.parse().ok()?;
    let minutes: u16 = minutes.parse().ok()?;
    let total = hours * 60 + minutes;
    (minutes < 60 && total <= MINUTES_PER_DAY).then_some(total)
}

/// Parses a UTC offset (`+07:00`, `-05:30`, `+7`, `Z`, `UTC`) into minutes east of UTC.
pub fn parse_utc_offset(text: &str) -> Result<i32, String> {
    let text = text.trim();
    let bad = || format!("bad UTC offset '{text}' (expected e.g. +07:00)");
    if text.eq_ignore_ascii_case("z") || text.eq_ignore_ascii_case("utc") {
        return Ok(0);
    }
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => return Err(bad()),
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "00"));
    if hours.is_empty() || hours.len() > 2 || minutes.len() != 2 {
        return Err(bad());
    }
    let hours: i32 = hours.parse().map_err(|_| bad())?;
    let minutes: i32 = minutes.parse().map_err(|_| bad())?;
    // Real offsets run from -12:00 to +14:00.
    if minutes >= 60 || hours > 14 {
        return Err(bad());
    }
    Ok(sign * (hours * 60 + minutes))
}

/// The local weekday and minute of the day at `now_ms` (ms since the Unix epoch) for a zone
/// `offset_minutes` east of UTC.
pub fn local_time(now_ms: u64, offset_minutes: i32) -> (Weekday, u16) {
    const MS_PER_DAY: i64 = 86_400_000;
    let local_ms = i64::try_from(now_ms).unwrap_or(i64::MAX) + i64::from(offset_minutes) * 60_000;
    let days = local_ms.div_euclid(MS_PER_DAY);
    // Day 0, 1970-01-01, was a Thursday (index 3 counting from Monday).
    let weekday = Weekday::ALL[usize::try_from((days + 3).rem_euclid(7)).unwrap_or(0)];
    let minute = u16::try_from(local_ms.rem_euclid(MS_PER_DAY) / 60_000).unwrap_or(0);
    (weekday, minute)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOP: &str = "mon-fri 08:00-21:00; sat,sun 09:00-17:00";

    fn at(hours: u16, minutes: u16) -> u16 {
        hours * 60 + minutes
    }

    #[test]
    fn monday_before_opening_is_closed() {
        assert!(
            !Schedule::parse(SHOP)
                .unwrap()
                .is_open(Weekday::Mon, at(7, 59))
        );
    }

    #[test]
    fn monday_at_opening_is_open() {
        assert!(
            Schedule::parse(SHOP)
                .unwrap()
                .is_open(Weekday::Mon, at(8, 0))
        );
    }

    #[test]
    fn closing_minute_is_closed() {
        let schedule = Schedule::parse(SHOP).unwrap();
        assert!(schedule.is_open(Weekday::Fri, at(20, 59)));
        assert!(!schedule.is_open(Weekday::Fri, at(21, 0)));
    }

    #[test]
    fn sunday_has_its_own_hours() {
        let schedule = Schedule::parse(SHOP).unwrap();
        assert!(!schedule.is_open(Weekday::Sun, at(8, 30)));
        assert!(schedule.is_open(Weekday::Sun, at(9, 0)));
        assert!(!schedule.is_open(Weekday::Sun, at(17, 0)));
    }

    #[test]
    fn days_not_named_are_closed() {
        let schedule = Schedule::parse("mon-fri 08:00-21:00").unwrap();
        assert!(!schedule.is_open(Weekday::Sat, at(12, 0)));
    }

    #[test]
    fn several_ranges_and_wrapping_day_ranges() {
        let schedule = Schedule::parse("fri-mon 08:00-12:00, 13:30-24:00").unwrap();
        assert!(schedule.is_open(Weekday::Sun, at(11, 0)));
        assert!(!schedule.is_open(Weekday::Sun, at(12, 30)));
        assert!(schedule.is_open(Weekday::Mon, at(23, 59)));
        assert!(!schedule.is_open(Weekday::Wed, at(11, 0)));
    }

    #[test]
    fn daily_and_long_day_names() {
        let schedule = Schedule::parse("daily 10:00-11:00; Saturday 12:00-13:00").unwrap();
        assert!(schedule.is_open(Weekday::Tue, at(10, 0)));
        assert!(schedule.is_open(Weekday::Sat, at(12, 0)));
    }

    #[test]
    fn bad_day_is_named() {
        let error = Schedule::parse("mon-fri 08:00-21:00; sat,sonday 09:00-17:00").unwrap_err();
        assert!(error.starts_with("bad day 'sonday'"), "{error}");
        assert!(error.ends_with("in 'sat,sonday 09:00-17:00'"), "{error}");
    }

    #[test]
    fn bad_time_range_is_named() {
        let error = Schedule::parse("mon 8-21").unwrap_err();
        assert!(error.starts_with("bad time range '8-21'"), "{error}");
        assert!(Schedule::parse("mon 08:00-25:00").is_err());
        assert!(Schedule::parse("mon 08:60-21:00").is_err());
    }

    #[test]
    fn overnight_range_is_rejected() {
        let error = Schedule::parse("fri 22:00-02:00").unwrap_err();
        assert!(error.contains("does not end after it starts"), "{error}");
    }

    #[test]
    fn empty_hours_and_missing_times_are_rejected() {
        assert!(
            Schedule::parse(" ; ")
                .unwrap_err()
                .starts_with("no opening hours")
        );
        assert!(
            Schedule::parse("mon-fri")
                .unwrap_err()
                .contains("needs days and hours")
        );
    }

    #[test]
    fn utc_offsets() {
        assert_eq!(parse_utc_offset("+07:00"), Ok(420));
        assert_eq!(parse_utc_offset("-05:30"), Ok(-330));
        assert_eq!(parse_utc_offset("+7"), Ok(420));
        assert_eq!(parse_utc_offset("Z"), Ok(0));
        assert!(parse_utc_offset("07:00").is_err());
        assert!(parse_utc_offset("+15:00").is_err());
        assert!(parse_utc_offset("+07:75").is_err());
    }

    #[test]
    fn local_time_applies_the_offset() {
        // 2024-01-01T00:59:00Z was a Monday; at +07:00 it is Monday 07:59.
        let now_ms = 1_704_070_740_000;
        assert_eq!(local_time(now_ms, 420), (Weekday::Mon, at(7, 59)));
        // Same instant at UTC-05:00: Sunday 19:59.
        assert_eq!(local_time(now_ms, -300), (Weekday::Sun, at(19, 59)));
    }
}
