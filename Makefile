# Sonde: the two entry points of the README, plus helpers.
#   make run    install missing packages, build, run `sonde run trace_open` on the host
#   make check  install missing packages, build with -Werror, run every test (also under ASan+UBSan,
#               and the integration tests under Debian's stock 6.1 kernel in qemu: check-kernels)
BUILD ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
BUILD_TSAN ?= build-tsan
JOBS ?= $(shell nproc)
GADGET ?= trace_open
RUN_ARGS ?= --host

.PHONY: all deps build run check check-kernels test test-asan test-tsan test-valgrind fuzz-smoke fuzz-long bench soak clean format

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DSONDE_WERROR=ON

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

run: build
	$(BUILD)/sonde run $(GADGET) $(RUN_ARGS)

# After ctest's summary, why each skipped test did not run (ctest names them only); then the
# summary line again, so that it stays the last line of the output.
test: build
	cd $(BUILD) && { ctest --output-on-failure -j1; echo $$? >ctest.rc; } | tee ctest.out; \
	cd $(CURDIR) && scripts/test-skips.sh $(BUILD); \
	grep -E '^[0-9]+% tests passed' $(BUILD)/ctest.out | tail -n 1; exit $$(cat $(BUILD)/ctest.rc)

$(BUILD_ASAN)/CMakeCache.txt:
	cmake -S . -B $(BUILD_ASAN) -DSONDE_WERROR=ON -DSONDE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug

# intercept_tls_get_addr=0: LeakSanitizer misreads the thread-local storage of a dlopen'ed library
# (gRPC core) and crashes now and then (google/sanitizers#1322).
test-asan: deps $(BUILD_ASAN)/CMakeCache.txt
	cmake --build $(BUILD_ASAN) -j$(JOBS)
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1:intercept_tls_get_addr=0 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j1; \
	rc=$$?; cd $(CURDIR) && scripts/test-skips.sh $(BUILD_ASAN); exit $$rc

$(BUILD_TSAN)/CMakeCache.txt:
	cmake -S . -B $(BUILD_TSAN) -DSONDE_WERROR=ON -DSONDE_TSAN=ON -DCMAKE_BUILD_TYPE=Debug

# The concurrency tests (several runs, each on its own thread, in one process) under
# ThreadSanitizer; tests/tsan.supp holds only third-party internals, each with its reason.
# halt_on_error: a race fails the test, not just a report in its output.
test-tsan: deps $(BUILD_TSAN)/CMakeCache.txt
	cmake -S . -B $(BUILD_TSAN) >/dev/null # new test files: only their targets are built
	cmake --build $(BUILD_TSAN) -j$(JOBS) --target sonde test_engine_concurrency test_log_routing test_container_service
	cd $(BUILD_TSAN) && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" \
		ctest --output-on-failure -j1 -L concurrency; \
	rc=$$?; cd $(CURDIR) && scripts/test-skips.sh $(BUILD_TSAN); exit $$rc

# Unit tests under valgrind memcheck (not part of check: about a minute more).
test-valgrind: build
	scripts/valgrind-unit.sh $(BUILD)

# libFuzzer targets (clang) with a short reproducible run each from the
# committed seeds (fuzz/README.md).
$(BUILD_FUZZ)/CMakeCache.txt:
	cmake -S . -B $(BUILD_FUZZ) -DCMAKE_C_COMPILER=clang -DSONDE_FUZZ=ON -DSONDE_WERROR=ON \
		-DCMAKE_BUILD_TYPE=Debug

fuzz-smoke: deps $(BUILD_FUZZ)/CMakeCache.txt
	cmake --build $(BUILD_FUZZ) -j$(JOBS) --target fuzz_all
	cd $(BUILD_FUZZ) && ctest --output-on-failure -L fuzz

# FUZZ_TIME seconds per target (default 600), one target at a time; the
# corpus grows in FUZZ_CORPUS (default /var/tmp/sonde-fuzz), finds are saved
# in $(FUZZ_CORPUS)/crashes/<target>/. FUZZ_TARGETS="output ldcache" limits it.
fuzz-long: deps $(BUILD_FUZZ)/CMakeCache.txt
	cmake --build $(BUILD_FUZZ) -j$(JOBS) --target fuzz_all
	fuzz/run.sh long $(BUILD_FUZZ)/fuzz/targets.txt $(BUILD_FUZZ)/fuzz

# The integration suite under the other kernels in /boot (Debian 12's 6.1), each booted in qemu over
# this machine's files, with the binaries of $(BUILD) (root; installs qemu and the kernel if missing).
check-kernels: build
	scripts/check-kernels.sh $(BUILD)

# The sanitizer, fuzz and other-kernel passes run first; the plain pass prints the final ctest summary.
check: test-asan test-tsan fuzz-smoke check-kernels test

# Benchmarks (root): results go to stdout; bench/RESULTS.md keeps the reference table.
bench: build
	$(BUILD)/bench/bench_pipeline
	bench/overhead.sh $(BUILD)
	bench/container_start.sh $(BUILD)
	bench/registry_pull.sh $(BUILD)

# Ten minutes of trace_open under a steady workload: RSS flat, nothing lost (root).
soak: build
	bench/soak.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h' ':!:include/gadget/*/vmlinux.h')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
