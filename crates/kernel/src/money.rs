use serde::{Deserialize, Serialize};

/// The amount or currency is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMoney {
    /// Amounts are never negative.
    #[error("amount must not be negative")]
    Negative,
    /// Currency codes are three upper-case ASCII letters.
    #[error("currency must be a three-letter ISO 4217 code")]
    Currency,
    /// Two amounts in different currencies cannot be combined.
    #[error("currencies differ")]
    CurrencyMismatch,
    /// The result does not fit.
    #[error("amount overflows")]
    Overflow,
}

/// An ISO 4217 currency code such as `INR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    /// Indian rupee, the default (Razorpay settles in paise).
    pub const INR: Self = Self(*b"INR");

    /// Parses a three-letter code (case-insensitive).
    ///
    /// # Errors
    /// `InvalidMoney::Currency` for anything else.
    pub fn parse(raw: &str) -> Result<Self, InvalidMoney> {
        let upper = raw.trim().to_ascii_uppercase();
        let bytes = upper.as_bytes();
        if bytes.len() == 3 && bytes.iter().all(u8::is_ascii_uppercase) {
            Ok(Self([bytes[0], bytes[1], bytes[2]]))
        } else {
            Err(InvalidMoney::Currency)
        }
    }

    /// The code as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Currency {
    type Error = InvalidMoney;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> Self {
        c.as_str().to_owned()
    }
}

/// An amount of money in integer minor units (paise for INR) plus its currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    amount_minor: i64,
    currency: Currency,
}

impl Money {
    /// A non-negative amount.
    ///
    /// # Errors
    /// `InvalidMoney::Negative` for a negative amount.
    pub fn new(amount_minor: i64, currency: Currency) -> Result<Self, InvalidMoney> {
        if amount_minor < 0 {
            return Err(InvalidMoney::Negative);
        }
        Ok(Self {
            amount_minor,
            currency,
        })
    }

    /// Amount in minor units.
    #[must_use]
    pub const fn amount_minor(&self) -> i64 {
        self.amount_minor
    }

    /// Currency.
    #[must_use]
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// Adds two amounts of the same currency.
    ///
    /// # Errors
    /// `CurrencyMismatch` or `Overflow`.
    pub fn checked_add(self, other: Self) -> Result<Self, InvalidMoney> {
        if self.currency != other.currency {
            return Err(InvalidMoney::CurrencyMismatch);
        }
        let amount_minor = self
            .amount_minor
            .checked_add(other.amount_minor)
            .ok_or(InvalidMoney::Overflow)?;
        Ok(Self {
            amount_minor,
            currency: self.currency,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_codes_are_three_letters() {
        assert_eq!(Currency::parse("inr"), Ok(Currency::INR));
        assert_eq!(Currency::parse("IN"), Err(InvalidMoney::Currency));
        assert_eq!(Currency::parse("IN1"), Err(InvalidMoney::Currency));
    }

    #[test]
    fn money_is_never_negative_and_adds_checked() {
        assert_eq!(Money::new(-1, Currency::INR), Err(InvalidMoney::Negative));
        let a = Money::new(i64::MAX, Currency::INR).expect("valid");
        let one = Money::new(1, Currency::INR).expect("valid");
        assert_eq!(a.checked_add(one), Err(InvalidMoney::Overflow));
        let usd = Money::new(1, Currency::parse("USD").expect("valid")).expect("valid");
        assert_eq!(one.checked_add(usd), Err(InvalidMoney::CurrencyMismatch));
        assert_eq!(one.checked_add(one).map(|m| m.amount_minor()), Ok(2));
    }
}
