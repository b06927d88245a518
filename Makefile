.PHONY: run test fmt clippy

## run: build and start the whole service locally (moto + local API gateway)
run:
	./infra/scripts/run-local.sh

## test: fmt check, clippy and the whole test suite against a private moto server
test:
	./infra/scripts/test.sh

fmt:
	cargo fmt --all

## fuzz-api: schemathesis (every check) against the local stack, driven by the served OpenAPI document
.PHONY: fuzz-api
fuzz-api:
	./infra/scripts/fuzz-api.sh

## bench: release build, then every benchmark of issue 6 against a private moto; writes BENCHMARKS.md
.PHONY: bench
bench:
	./infra/scripts/bench.sh

## sam-local: every function in Lambda containers via the SAM CLI (x86_64, Docker) against moto, answers checked
.PHONY: sam-local
sam-local:
	./infra/scripts/sam-local.sh

## chaos: the local stack under AWS faults, pipeline kills and a flaky receiver (CHAOS_DELIVERIES=300 for a short run)
.PHONY: chaos
chaos:
	./infra/scripts/chaos.sh
