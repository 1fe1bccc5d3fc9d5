//! Money as printed on an invoice: `INR 1,23,456.00`, `USD 1,234.50`, `JPY 1,200`.

use nexus_kernel::Money;

/// Digits after the decimal point for a currency (ISO 4217 minor units). `Money` keeps minor
/// units but the kernel does not say how many there are, so the few currencies that differ
/// from two are listed here.
fn minor_digits(code: &str) -> u32 {
    match code {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// Groups the integer part: Indian style (lakh, crore) for rupees, thousands otherwise.
fn group(major: u64, indian: bool) -> String {
    let digits = major.to_string();
    let len = digits.len();
    let mut out = String::with_capacity(len + len / 2);
    for (i, c) in digits.chars().enumerate() {
        let left = len - i;
        let boundary = if indian {
            left == 3 || (left > 3 && (left - 3).is_multiple_of(2))
        } else {
            left.is_multiple_of(3)
        };
        if i > 0 && boundary {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The amount with its currency code, e.g. `INR 499.00`.
pub(crate) fn format_money(money: Money) -> String {
    let code = money.currency().as_str().to_owned();
    let digits = minor_digits(&code);
    // `Money` is never negative, so `unsigned_abs` changes nothing but the type.
    let minor = money.amount_minor().unsigned_abs();
    let scale = 10_u64.pow(digits);
    let major = group(minor / scale, code == "INR");
    if digits == 0 {
        format!("{code} {major}")
    } else {
        let fraction = minor % scale;
        format!("{code} {major}.{fraction:0width$}", width = digits as usize)
    }
}

#[cfg(test)]
mod tests {
    use nexus_kernel::Currency;

    use super::*;

    fn money(minor: i64, code: &str) -> Money {
        Money::new(minor, Currency::parse(code).expect("valid currency")).expect("valid money")
    }

    #[test]
    fn formats_amounts_with_code_decimals_and_grouping() {
        let cases = [
            (0, "INR", "INR 0.00"),
            (5, "INR", "INR 0.05"),
            (49_900, "INR", "INR 499.00"),
            (99_999, "INR", "INR 999.99"),
            (100_000, "INR", "INR 1,000.00"),
            (12_345_600, "INR", "INR 1,23,456.00"),
            (1_234_567_800, "INR", "INR 1,23,45,678.00"),
            (123_450, "USD", "USD 1,234.50"),
            (123_456_789, "USD", "USD 1,234,567.89"),
            (1_200, "JPY", "JPY 1,200"),
            (1_234, "KWD", "KWD 1.234"),
        ];
        for (minor, code, expected) in cases {
            assert_eq!(format_money(money(minor, code)), expected, "{minor} {code}");
        }
    }

    #[test]
    fn the_largest_amount_formats_without_overflow() {
        assert_eq!(
            format_money(money(i64::MAX, "USD")),
            "USD 92,233,720,368,547,758.07"
        );
    }
}
