# Customer Nexus Hub — everyday commands. `make help` lists them.

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
# The domain crates, by their place in the tree (the dependency-rule test finds them the same way).
DOMAIN_CRATES := $(shell sed -n 's/^name = "\(.*\)"/\1/p' crates/*/Cargo.toml)
NEXTEST := $(shell cargo nextest --version >/dev/null 2>&1 && echo yes)

ifeq ($(NEXTEST),yes)
RUN_TESTS = cargo nextest run --no-fail-fast
BUILD_TESTS = cargo nextest run --no-run
# The fault tests run their own PostgreSQL and Redis whatever TEST_DATABASE_URL says: once is enough.
SKIP_FAULTS = -E 'not test(/^faults::/)'
else
RUN_TESTS = cargo test --no-fail-fast
BUILD_TESTS = cargo test --no-run
SKIP_FAULTS = -- --skip faults::
endif

.PHONY: help run worker test test-tools test-unit test-sqlite test-postgres test-api-sqlite test-api-fuzz lint fmt check-deps build release clean bench-cache bench-metrics bench-dashboards

help:
	@echo "make run          serve the API on the embedded default (SQLite under ./data)"
	@echo "make test         every test: unit, adapters and black-box on SQLite and PostgreSQL"
	@echo "make lint         rustfmt check, clippy and rustdoc with warnings as errors"
	@echo "make check-deps   the dependency rule for domain crates"
	@echo "make test-api-fuzz  OpenAPI 3.1 validation and schemathesis against target/debug/nexus"
	@echo "make bench-cache  wrk against the cached product list (release build), with the hit rate"
	@echo "make bench-metrics  wrk posting page-metrics batches (>= 10k events/s) while reading products (release build)"
	@echo "make bench-dashboards  p50/p99 of each role's dashboard on PostgreSQL with 1M customers and 100k orders"

run:
	cargo run -p nexus -- serve

worker:
	cargo run -p nexus -- worker

# Local servers the tests start themselves: an aiosmtpd SMTP sink in ./.venv.
test-tools:
	bash scripts/test-tools.sh

build:
	cargo build --workspace --all-targets

release:
	cargo build --release -p nexus

# A benchmark, not a test: req/s and latency of the cached product list, and the cache hit
# rate from /metrics (scripts/bench-cache.sh; figures in docs/operations.md).
bench-cache:
	bash scripts/bench-cache.sh

# Unit, adapter (SQLite + PostgreSQL) and black-box tests on PostgreSQL in one run, then the
# black-box suite again on SQLite beside the fuzzer: both use the build the first run made,
# and the fuzzer's server (its own port, data directory and SQLite file) shares nothing with
# the tests, so they run at once. Each one's output is printed whole when it ends.
test: test-tools
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(RUN_TESTS) --workspace
	$(MAKE) -j2 --output-sync=target test-api-sqlite test-api-fuzz

# The black-box suite on SQLite (the build must exist: `make test` runs it after the first pass).
test-api-sqlite:
	env -u TEST_DATABASE_URL $(RUN_TESTS) --workspace --test api $(SKIP_FAULTS)

# The OpenAPI document against the real binary of the workspace test build (the build the test
# runs above made, so nothing is built again; `cargo build` alone would unify features
# differently and rebuild): OpenAPI 3.1 validation, then schemathesis once per role. See
# scripts/schemathesis.sh.
test-api-fuzz: test-tools
	$(BUILD_TESTS) --workspace
	bash scripts/schemathesis.sh

# Every domain crate (a crates/<name>/Cargo.toml; adapters live one level deeper) plus the
# crypto adapter: no database, no network, seconds.
test-unit:
	$(RUN_TESTS) $(addprefix -p ,$(DOMAIN_CRATES)) -p nexus-crypto

test-sqlite: test-tools
	env -u TEST_DATABASE_URL $(RUN_TESTS) --workspace

test-postgres: test-tools
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(RUN_TESTS) --workspace

check-deps:
	$(RUN_TESTS) -p nexus --test dependency_rule

# rustfmt, clippy, and the API documentation of every crate with rustdoc's warnings (broken
# or private intra-doc links, bad HTML) as errors.
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

fmt:
	cargo fmt --all

clean:
	cargo clean

# A benchmark, not a test: page-metrics events per second and the product list's latency
# meanwhile (scripts/bench-metrics.sh; how to run it in docs/analytics.md).
bench-metrics:
	bash scripts/bench-metrics.sh

# A benchmark, not a test: each dashboard's latency on a PostgreSQL database filled with 1M
# customers and 100k orders (scripts/bench-dashboards.sh; the figures in docs/dashboards.md).
bench-dashboards:
	bash scripts/bench-dashboards.sh
