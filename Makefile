# pg_migrate: PGXS build of the extension, plus convenience targets.
#   make && make install         build and install the extension (install needs root)
#   make installcheck            pg_regress + isolation tests against the server in PG*
#   make test                    everything, on a throwaway cluster (installs what it needs)
#   make demo                    the seed scenario on a throwaway cluster
#   make cli                     build/pgmig and its unit tests (CMake)
#   make bench                   benchmarks (prints tables recorded in docs/benchmarks.md)
#   make format                  clang-format the C++ sources

MODULE_big   = pg_migrate
MODULEDIR    = extension
EXT_VERSIONS = 0.1.0 0.2.0 0.3.0 0.4.0 0.5.0 0.6.0
DATA         = extension/pg_migrate.control \
               extension/sql/pg_migrate--0.1.0.sql \
               $(wildcard extension/sql/pg_migrate--*--*.sql)

SRCS = $(wildcard extension/src/*.cpp) $(wildcard extension/src/pg/*.cpp)
OBJS = $(SRCS:.cpp=.o)

# Every sql/*.sql is a regression test (each creates and drops the extension itself), every
# test/isolation/specs/*.spec an isolation test: found by the build, never listed by hand.
REGRESS      = $(sort $(patsubst sql/%.sql,%,$(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=.
ISOLATION      = $(sort $(patsubst test/isolation/specs/%.spec,%,$(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation

PG_CPPFLAGS = -I$(srcdir)/extension/src
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Wno-register -Wno-unused-parameter -Wno-missing-field-initializers -fno-omit-frame-pointer
SHLIB_LINK  += -lstdc++ -lcrypto

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
# clang builds the JIT bitcode with its own flags (C++14 by default): keep it in step.
BITCODE_CXXFLAGS += -std=c++17 -Wno-register
endif

.PHONY: test demo cli bench lint-compare format
test:
	bash test/run_tests.sh
demo:
	bash test/demo.sh
cli:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build -j2
lint-compare:
	bash bench/lint_compare.sh
bench:
	bash bench/run.sh
	bash bench/cli.sh
	bash bench/layouts.sh
	bash bench/backup.sh
	bash bench/dynamodb.sh
format:
	clang-format -i extension/src/*.cpp extension/src/*.hpp extension/src/pg/*.cpp extension/src/pg/*.hpp \
	    $(wildcard cli/src/*.cpp cli/src/*.hpp cli/src/*/*.cpp cli/src/*/*.hpp cli/test/*.cpp)
