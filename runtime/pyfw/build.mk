# CPython framework: libnuwapy.so, its Python side and the Python sample
# apps (runtime/pyapps). Included by runtime/Makefile; see the variables
# documented there. Needs CPython 3.11's embedding files: natively the
# host's python3.11-config (PY_CONFIG); cross builds
# the sysroot's libpython3.11-dev (python-3.11-embed.pc), or PY_CFLAGS/PY_LIBS.
# Skipped (PYFW=0) where none is found.

PY_CONFIG ?= python3.11-config
ifneq ($(CROSS_COMPILE),)
  # The target's CPython from the sysroot (libpython3.11-dev), through the
  # framework's pkg-config (framework/build.mk); installed under /usr.
  PYFW ?= $(if $(shell $(FW_PKG_CONFIG) --exists python-3.11-embed && echo yes),1,0)
  PY_CFLAGS ?= $(shell $(FW_PKG_CONFIG) --cflags python-3.11-embed)
  PY_LIBS ?= $(shell $(FW_PKG_CONFIG) --libs python-3.11-embed) $(FW_RPATH_LINK)
  PY_HOME ?= /usr
else
  PYFW ?= $(if $(shell command -v $(PY_CONFIG) 2>/dev/null),1,0)
  PY_CFLAGS ?= $(shell $(PY_CONFIG) --includes)
  PY_LIBS ?= $(shell $(PY_CONFIG) --embed --ldflags)
  # CPython's prefix (its stdlib is PREFIX/lib/python3.11); "home=" overrides.
  PY_HOME ?= $(shell $(PY_CONFIG) --prefix)
endif

ifeq ($(PYFW),1)
PYFW_LIB := $(BUILD)/libnuwapy.so
PYFW_PY := $(BUILD)/py/nuwa_platform.py $(patsubst $(TOP)/pyapps/%,$(BUILD)/py/%,$(wildcard $(TOP)/pyapps/*.py))
# Test apps (the API check, the hostile probe): only install-tests ships them.
PYFW_TEST_PY := $(patsubst $(TOP)/pyfw/testapps/%,$(BUILD)/py-tests/%,$(wildcard $(TOP)/pyfw/testapps/*.py))

$(BUILD)/obj/nuwapy/%.o: $(TOP)/pyfw/%.c $(NUWA_INCLUDE)/nuwa.h $(NUWA_INCLUDE)/nuwa_app.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SO_CFLAGS) $(PY_CFLAGS) -DNUWAPY_HOME='"$(PY_HOME)"' -c -o $@ $<

$(PYFW_LIB): $(BUILD)/obj/nuwapy/pyfw.o $(LIBNUWA)
	$(CC) $(LDFLAGS) $(SO_LDFLAGS) -Wl,-soname,libnuwapy.so -o $@ $< -L$(BUILD) -lnuwa $(PY_LIBS) -lpthread

# The modules, next to the library (native: path=$(BUILD)/py).
$(BUILD)/py/nuwa_platform.py: $(TOP)/pyfw/nuwa_platform.py
	@mkdir -p $(dir $@)
	cp $< $@
$(BUILD)/py/%.py: $(TOP)/pyapps/%.py
	@mkdir -p $(dir $@)
	cp $< $@
$(BUILD)/py-tests/%.py: $(TOP)/pyfw/testapps/%.py
	@mkdir -p $(dir $@)
	cp $< $@

ALL_TARGETS += $(PYFW_LIB) $(PYFW_PY) $(PYFW_TEST_PY)
INSTALL_LIB += $(PYFW_LIB)
INSTALL_PY += $(PYFW_PY)
TEST_PY += $(PYFW_TEST_PY)
endif
