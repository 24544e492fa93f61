//! Graph API times (`2017-04-04T21:13:30+0000`) to ms since the Unix epoch, without a date
//! crate for one format.

/// `YYYY-MM-DDTHH:MM:SS` then `+HHMM`, `-HHMM`, `+HH:MM` or `Z`, as ms since the Unix
/// epoch; `None` for anything else or a time before 1970.
pub fn parse_graph_time(text: &str) -> Option<u64> {
    let text = text.trim();
    let date = text.get(..10)?;
    let clock = text.get(11..19)?;
    if text.get(10..11)? != "T" || date.get(4..5)? != "-" || date.get(7..8)? != "-" {
        return None;
    }
    if clock.get(2..3)? != ":" || clock.get(5..6)? != ":" {
        return None;
    }
    let year = number(date.get(..4)?)?;
    let month = number(date.get(5..7)?)?;
    let day = number(date.get(8..10)?)?;
    let hour = number(clock.get(..2)?)?;
    let minute = number(clock.get(3..5)?)?;
    let second = number(clock.get(6..8)?)?;
    // A leap second (60) is let through: it only moves the time by one second.
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let offset_seconds = offset_seconds(text.get(19..)?)?;
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second
        - offset_seconds;
    u64::try_from(seconds).ok()?.checked_mul(1_000)
}

/// `+0000`, `-0700`, `+05:30` or `Z`, in seconds east of UTC.
fn offset_seconds(offset: &str) -> Option<i64> {
    if offset == "Z" {
        return Some(0);
    }
    let sign = match offset.get(..1)? {
        "+" => 1,
        "-" => -1,
        _ => return None,
    };
    let digits = offset.get(1..)?.replacen(':', "", 1);
    if digits.len() != 4 {
        return None;
    }
    let hours = number(digits.get(..2)?)?;
    let minutes = number(digits.get(2..)?)?;
    (hours <= 23 && minutes <= 59).then_some(sign * (hours * 3_600 + minutes * 60))
}

/// ASCII digits only (`str::parse` would take a sign).
fn number(digits: &str) -> Option<i64> {
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Days from 1970-01-01 to this proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`: years counted from March, so the leap day ends a year).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_times_are_read_as_utc_ms() {
        assert_eq!(parse_graph_time("1970-01-01T00:00:00+0000"), Some(0));
        // 2017-04-04T21:13:30Z, Meta's documented example.
        assert_eq!(
            parse_graph_time("2017-04-04T21:13:30+0000"),
            Some(1_491_340_410_000)
        );
        // The day after a leap day.
        assert_eq!(
            parse_graph_time("2024-03-01T00:00:00+0000"),
            Some(1_709_251_200_000)
        );
    }

    #[test]
    fn offsets_move_the_time_to_utc() {
        let utc = parse_graph_time("2024-05-06T10:00:00+0000");
        assert_eq!(parse_graph_time("2024-05-06T17:00:00+0700"), utc);
        assert_eq!(parse_graph_time("2024-05-06T15:30:00+05:30"), utc);
        assert_eq!(parse_graph_time("2024-05-06T03:00:00-0700"), utc);
        assert_eq!(parse_graph_time("2024-05-06T10:00:00Z"), utc);
    }

    #[test]
    fn anything_else_is_not_a_time() {
        for text in [
            "",
            "2024-05-06",
            "2024-05-06 10:00:00+0000",
            "2024-13-06T10:00:00+0000",
            "2024-05-06T24:00:00+0000",
            "2024-05-06T10:00:00",
            "2024-05-06T10:00:00+00",
            "+024-05-06T10:00:00+0000",
            "1969-12-31T23:59:59+0000",
            "2024-05-06T10:00:00+0000x",
        ] {
            assert_eq!(parse_graph_time(text), None, "{text}");
        }
    }
}
