# rosetta: the README's commands.
#   make build  - the module: target/wasm32-wasip1/release/rosetta.wasm
#   make demo   - the module run on the bundled example logs through the host
#   make test   - lints, the module, unit and integration tests
#   make bench  - fuel and speed figures
#   make soak   - 10,000,000 mixed records through one instance (not in CI)
#   make aot    - the module compiled ahead of time for this machine's CPU:
#                 target/rosetta.aot, with fluent-bit's flb-wamrc
#   make fuzz   - each fuzz target for FUZZ_SECONDS (nightly Rust and
#                 cargo-fuzz; not in CI)
#
# With CARGO_TARGET_DIR set, `target/` above is that directory.

TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
WASM := $(TARGET_DIR)/wasm32-wasip1/release/rosetta.wasm
AOT := $(TARGET_DIR)/rosetta.aot
# A ConfigMap holds at most 1 MiB (fluent-bit-conf/kubernetes/).
MAX_WASM_BYTES := 1048576
CARGO ?= cargo
SOAK_RECORDS ?= 10000000
WAMRC ?= flb-wamrc
# --disable-simd: fluent-bit builds WAMR without SIMD and refuses an .aot
# file that declares it; flb-wamrc then fails if the module ever used SIMD.
# Add --target=<arch> and --cpu=<cpu> to compile for other nodes than this
# machine (flb-wamrc's default CPU is this machine's own model).
WAMRC_FLAGS ?= --disable-simd

FUZZ_SECONDS ?= 60
FUZZ_TARGETS := record parsers msgpack config timestamps
# New inputs go to a scratch corpus under fuzz/target/; fuzz/corpus/ holds
# the committed seeds and is only read.
FUZZ_WORK := target/corpus

.PHONY: build aot demo test lint bench soak fuzz fmt clean

build:
	$(CARGO) build --release --lib --target wasm32-wasip1
	@size=$$(stat -c %s $(WASM)) || exit 1; \
	  echo "rosetta.wasm: $$size bytes"; \
	  if [ $$size -gt $(MAX_WASM_BYTES) ]; then echo "rosetta.wasm is over 1 MiB: too big for a ConfigMap" >&2; exit 1; fi

# flb-wamrc is built with fluent-bit (cmake -DFLB_WAMRC=On) and must be the
# one of the fluent-bit version that loads the .aot file: the AOT format is
# tied to fluent-bit's WAMR version, and the code to one CPU architecture.
aot:
	@command -v $(WAMRC) >/dev/null 2>&1 || { \
	  echo "make aot: $(WAMRC) is not on the PATH." >&2; \
	  echo "It is the AOT compiler built with fluent-bit itself: build the fluent-bit" >&2; \
	  echo "version your nodes run with cmake -DFLB_WAMRC=On (it needs LLVM; see" >&2; \
	  echo "https://docs.fluentbit.io/manual/development/wasm-filter-plugins) and put" >&2; \
	  echo "its bin/flb-wamrc on the PATH, or pass WAMRC=/path/to/flb-wamrc." >&2; \
	  exit 1; }
	@$(MAKE) --no-print-directory build
	$(WAMRC) $(WAMRC_FLAGS) -o $(AOT) $(WASM)
	@echo "rosetta.aot: $$(stat -c %s $(AOT)) bytes; set the wasm filters' Wasm_Path to it"

REPLAY := $(CARGO) run --quiet --profile host --example replay --

demo: build
	@echo "== istio-proxy sidecar through rosetta_envoy (Match kube.*.istio-proxy)" >&2
	$(REPLAY) --function rosetta_envoy examples/logs/*_istio-proxy.log
	@echo "== ingress controller through rosetta_nginx_ingress" >&2
	$(REPLAY) --function rosetta_nginx_ingress examples/logs/ingress-nginx_*_controller.log
	@echo "== every container through rosetta_filter with examples/rosetta.toml" >&2
	$(REPLAY) --config examples/rosetta.toml examples/logs/*.log
	@echo "== a scanner floods the ingress controller: limited per client (examples/flood/)" >&2
	$(REPLAY) --config examples/flood/rosetta.toml --lines-per-sec 100 examples/flood/*.log

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --lib --target wasm32-wasip1 -- -D warnings
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test: build lint
	ROSETTA_WASM=$(abspath $(WASM)) $(CARGO) test --workspace

bench: build
	ROSETTA_WASM=$(abspath $(WASM)) $(CARGO) bench --profile host --bench fuel

soak: build
	ROSETTA_WASM=$(abspath $(WASM)) $(CARGO) run --quiet --profile host --example soak -- $(SOAK_RECORDS)

fuzz:
	@command -v cargo-fuzz >/dev/null 2>&1 || { \
	  echo "make fuzz: cargo-fuzz is not installed: cargo install cargo-fuzz" >&2; exit 1; }
	cd fuzz && for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_WORK)/$$t && \
	  $(CARGO) +nightly fuzz run $$t $(FUZZ_WORK)/$$t corpus/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -max_len=16384 -timeout=10 || exit 1; \
	done

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
