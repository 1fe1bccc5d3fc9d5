use serde::Serialize;

/// The largest page a client may ask for.
pub const MAX_PAGE_LIMIT: u32 = 100;

/// Which page of a list to return: 1-based `page`, `limit` between 1 and 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    page: u32,
    limit: u32,
}

impl PageRequest {
    /// Default page size when the client does not say.
    pub const DEFAULT_LIMIT: u32 = 20;

    /// Builds a request, clamping `page` to at least 1 and `limit` to 1..=100.
    #[must_use]
    pub fn new(page: Option<u32>, limit: Option<u32>) -> Self {
        Self {
            page: page.unwrap_or(1).max(1),
            limit: limit
                .unwrap_or(Self::DEFAULT_LIMIT)
                .clamp(1, MAX_PAGE_LIMIT),
        }
    }

    /// 1-based page number.
    #[must_use]
    pub const fn page(&self) -> u32 {
        self.page
    }

    /// Page size.
    #[must_use]
    pub const fn limit(&self) -> u32 {
        self.limit
    }

    /// Rows to skip, computed without overflow.
    #[must_use]
    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.limit)
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self::new(None, None)
    }
}

/// One page of results and the exact total across all pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// How many rows match in total.
    pub total: u64,
    /// The request this page answers.
    pub request: PageRequest,
}

impl<T> Page<T> {
    /// Number of pages for `total` rows at this page size.
    #[must_use]
    pub fn total_pages(&self) -> u64 {
        self.total.div_ceil(u64::from(self.request.limit()))
    }

    /// Maps the rows, keeping the counts.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            request: self.request,
        }
    }
}

impl Serialize for PageRequest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("PageRequest", 2)?;
        st.serialize_field("page", &self.page)?;
        st.serialize_field("limit", &self.limit)?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_page_and_limit() {
        let cases = [
            ((None, None), (1, 20)),
            ((Some(0), Some(0)), (1, 1)),
            ((Some(3), Some(500)), (3, 100)),
            ((Some(u32::MAX), Some(100)), (u32::MAX, 100)),
        ];
        for ((page, limit), (p, l)) in cases {
            let req = PageRequest::new(page, limit);
            assert_eq!((req.page(), req.limit()), (p, l));
        }
        assert_eq!(
            PageRequest::new(Some(u32::MAX), Some(100)).offset(),
            (u64::from(u32::MAX) - 1) * 100
        );
    }

    #[test]
    fn total_pages_rounds_up() {
        let page = Page::<u8> {
            items: vec![],
            total: 41,
            request: PageRequest::new(Some(1), Some(20)),
        };
        assert_eq!(page.total_pages(), 3);
        let empty = Page::<u8> {
            items: vec![],
            total: 0,
            request: PageRequest::default(),
        };
        assert_eq!(empty.total_pages(), 0);
    }
}
