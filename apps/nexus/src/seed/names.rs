//! Names, companies and the customer roster the other kinds draw from.

use super::rng;

/// Given names, Indian and international.
const FIRST: [&str; 48] = [
    "Aarav",
    "Aditi",
    "Ananya",
    "Arjun",
    "Deepika",
    "Ishaan",
    "Kavya",
    "Rohan",
    "Meera",
    "Vikram",
    "Sneha",
    "Rahul",
    "Pooja",
    "Karthik",
    "Lakshmi",
    "Nikhil",
    "Divya",
    "Siddharth",
    "Tanvi",
    "Harish",
    "Farah",
    "Imran",
    "Gurpreet",
    "Neha",
    "Suresh",
    "Anjali",
    "Emma",
    "Liam",
    "Olivia",
    "Noah",
    "Sofia",
    "Lucas",
    "Hannah",
    "Mateo",
    "Yuki",
    "Kenji",
    "Amara",
    "Chidi",
    "Fatima",
    "Omar",
    "Elena",
    "Marco",
    "Chloe",
    "Daniel",
    "Mei",
    "Wei",
    "Ingrid",
    "Lars",
];

/// Family names, Indian and international.
const LAST: [&str; 40] = [
    "Sharma",
    "Patel",
    "Iyer",
    "Reddy",
    "Nair",
    "Gupta",
    "Menon",
    "Singh",
    "Kapoor",
    "Rao",
    "Chatterjee",
    "Banerjee",
    "Desai",
    "Joshi",
    "Kulkarni",
    "Pillai",
    "Bose",
    "Malhotra",
    "Mehta",
    "Khan",
    "Fernandes",
    "D'Souza",
    "Smith",
    "Johnson",
    "García",
    "Müller",
    "Rossi",
    "Dubois",
    "Tanaka",
    "Sato",
    "Okafor",
    "Mensah",
    "Hassan",
    "Novak",
    "Jensen",
    "Larsen",
    "Chen",
    "Wang",
    "Silva",
    "O'Brien",
];

/// Companies customers work for.
const COMPANIES: [&str; 30] = [
    "Tata Digital Works",
    "Infosys Learning",
    "Kaveri Textiles",
    "Himalaya Organics",
    "Ganga Logistics",
    "Deccan Software",
    "Malabar Spices Co",
    "Sahyadri Analytics",
    "Konark Design Studio",
    "Indus Fintech",
    "Nilgiri Tea Traders",
    "Coromandel Foods",
    "Vindhya Consulting",
    "Aravalli Architects",
    "Bengal Crafts Collective",
    "Lotus Healthcare",
    "Northwind Traders",
    "Contoso Ltd",
    "Fabrikam Inc",
    "Globex Corporation",
    "Initech",
    "Umbrella Retail",
    "Acme Media",
    "Blue Yonder Airlines",
    "Tailspin Toys",
    "Wide World Importers",
    "Adventure Works",
    "Litware Inc",
    "Proseware",
    "Lucerne Publishing",
];

/// Example mail domains (reserved for documentation, never delivered to real people).
const DOMAINS: [&str; 4] = [
    "example.com",
    "example.org",
    "example.net",
    "mail.example.com",
];

/// One demo customer as the CRM will hold them.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub first: &'static str,
    pub last: &'static str,
    pub email: String,
    pub company: Option<&'static str>,
    pub phone: Option<String>,
}

impl Person {
    pub(crate) fn full_name(&self) -> String {
        format!("{} {}", self.first, self.last)
    }
}

/// How many customers the CRM gets.
pub(crate) const CUSTOMERS: usize = 200;

/// The customer roster: the same [`CUSTOMERS`] people, in the same order, every run.
pub(crate) fn roster() -> Vec<Person> {
    let mut rng = rng("customers");
    (0..CUSTOMERS)
        .map(|i| {
            let first = FIRST[rng.usize(..FIRST.len())];
            let last = LAST[rng.usize(..LAST.len())];
            let local: String = format!("{first}.{last}")
                .to_lowercase()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
                .collect();
            let email = format!("{local}.{i:03}@{}", DOMAINS[rng.usize(..DOMAINS.len())]);
            let company = (rng.u8(..10) < 7).then(|| COMPANIES[rng.usize(..COMPANIES.len())]);
            let phone = (rng.u8(..10) < 6).then(|| format!("+91 9{:09}", rng.u32(..1_000_000_000)));
            Person {
                first,
                last,
                email,
                company,
                phone,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_roster_is_the_same_every_time_and_its_addresses_are_unique() {
        let (a, b) = (roster(), roster());
        assert_eq!(a.len(), CUSTOMERS);
        assert!(a.iter().zip(&b).all(|(x, y)| x.email == y.email));
        let mut emails: Vec<_> = a.iter().map(|p| p.email.clone()).collect();
        emails.sort();
        emails.dedup();
        assert_eq!(emails.len(), CUSTOMERS);
        assert!(a.iter().all(|p| p.email.contains("example.")));
    }
}
