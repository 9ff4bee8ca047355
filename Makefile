# Shortcuts over the scripts (which are what the README gives, since a
# fresh machine may not have make yet).
.PHONY: all build run test asan fuzz bench clean

all: build
build:
	scripts/build.sh build
run:
	scripts/run.sh
test:
	scripts/test.sh
asan:
	scripts/build.sh build-asan -DHERALD_SANITIZE=ON && ctest --test-dir build-asan --output-on-failure
fuzz:
	scripts/fuzz.sh
bench:
	scripts/bench.sh
clean:
	rm -rf build build-asan build-fuzz
