# App framework: libnuwafw.so and its theme resource (theme.xml).
# Included by runtime/Makefile; see the variables documented there.
# Needs the development files of OpenSSL, SQLite, libxml2 and ICU: the
# host's natively, $(SYSROOT)'s when cross-compiling.

FW_PKGS := openssl sqlite3 libxml-2.0 icu-uc icu-i18n
ifneq ($(CROSS_COMPILE)$(SYSROOT),$(CROSS_COMPILE))
  # Cross build against SYSROOT (a Buildroot build passes no SYSROOT: its
  # pkg-config and compiler already know their sysroot).
  # The sysroot's multiarch directory (the triplet unless the host tools say
  # otherwise: Debian's i386 is i686-linux-gnu but lib/i386-linux-gnu).
  MULTIARCH ?= $(TRIPLET)
  FW_LIBDIR := $(SYSROOT)/usr/lib/$(MULTIARCH)
  FW_PKG_CONFIG := PKG_CONFIG_SYSROOT_DIR=$(SYSROOT) \
	PKG_CONFIG_LIBDIR=$(FW_LIBDIR)/pkgconfig:$(SYSROOT)/usr/share/pkgconfig $(PKG_CONFIG)
  # The libraries' own dependencies (libz, liblzma, ...) are found in the sysroot.
  FW_RPATH_LINK := -Wl,-rpath-link,$(FW_LIBDIR):$(SYSROOT)/lib/$(MULTIARCH)
else
  FW_PKG_CONFIG := $(PKG_CONFIG)
  FW_RPATH_LINK :=
endif
# Deferred (=): pkg-config runs only when a framework rule needs it.
FW_CFLAGS = -I$(TOP)/framework/include $(shell $(FW_PKG_CONFIG) --cflags $(FW_PKGS))
FW_LIBS = $(shell $(FW_PKG_CONFIG) --libs $(FW_PKGS)) $(FW_RPATH_LINK)
FW_HEADERS := $(wildcard $(TOP)/framework/*.h $(TOP)/framework/include/*.h) \
	$(NUWA_INCLUDE)/nuwa.h $(NUWA_INCLUDE)/nuwa_app.h
FW_LIB := $(BUILD)/libnuwafw.so
FW_THEME := $(BUILD)/theme.xml
FW_OBJ := $(patsubst $(TOP)/framework/%.c,$(BUILD)/obj/nuwafw/%.o,$(wildcard $(TOP)/framework/*.c))

.PHONY: fw-deps-check
fw-deps-check:
	@if [ -n "$(CROSS_COMPILE)" ] && [ -z "$(SYSROOT)" ] && [ "$(PKG_CONFIG)" = pkg-config ]; then \
	  echo "framework: cross build needs SYSROOT=<dir> with the target's -dev packages of OpenSSL, SQLite, libxml2, ICU (or PKG_CONFIG= a pkg-config for the target)" >&2; \
	  exit 1; fi
	@$(FW_PKG_CONFIG) --exists $(FW_PKGS) || { \
	  echo "framework: missing development files of: $$(for p in $(FW_PKGS); do \
	    $(FW_PKG_CONFIG) --exists $$p || printf '%s ' $$p; done)" >&2; \
	  if [ -n "$(CROSS_COMPILE)" ]; then \
	    echo "framework: cross build needs SYSROOT=<dir> holding the target's -dev packages of OpenSSL, SQLite, libxml2, ICU (SYSROOT='$(SYSROOT)')" >&2; \
	  else \
	    echo "framework: install libssl-dev libsqlite3-dev libxml2-dev libicu-dev (host-tools/deps.sh does)" >&2; \
	  fi; exit 1; }

$(BUILD)/obj/nuwafw/%.o: $(TOP)/framework/%.c $(FW_HEADERS) | fw-deps-check
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SO_CFLAGS) $(FW_CFLAGS) -c -o $@ $<

$(FW_LIB): $(FW_OBJ) $(LIBNUWA)
	$(CC) $(LDFLAGS) $(SO_LDFLAGS) -Wl,-soname,libnuwafw.so -o $@ $(FW_OBJ) -L$(BUILD) -lnuwa $(FW_LIBS) -lpthread

$(FW_THEME): $(TOP)/framework/gen-theme.py
	@mkdir -p $(dir $@)
	python3 $< $@

# The start-up profile tool (docs/app-platform.md).
$(BUILD)/obj/nuwafw-tools/%.o: $(TOP)/framework/tools/%.c $(FW_HEADERS) | fw-deps-check
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(FW_CFLAGS) -I$(TOP)/framework -c -o $@ $<

$(BUILD)/nuwafw-profile: $(BUILD)/obj/nuwafw-tools/nuwafw-profile.o $(FW_LIB) $(LIBNUWA)
	$(CC) $(LDFLAGS) $(RUNPATH) -o $@ $< -L$(BUILD) -lnuwafw -lnuwa $(FW_LIBS)

ALL_TARGETS += $(FW_LIB) $(FW_THEME) $(BUILD)/nuwafw-profile
INSTALL_LIBEXEC += $(BUILD)/nuwafw-profile
INSTALL_LIB += $(FW_LIB)
INSTALL_DATA += $(FW_THEME)
