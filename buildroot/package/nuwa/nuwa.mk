################################################################################
#
# nuwa
#
################################################################################

# The runtime is built from this checkout (the top, so that LICENSE comes
# along). Only LICENSE and runtime/ are copied, without the build trees a
# "make -C runtime" leaves in runtime/build/.
NUWA_VERSION = local
NUWA_SITE = $(BR2_EXTERNAL_NUWA_PATH)/..
NUWA_SITE_METHOD = local
NUWA_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude=/runtime/build/ --include=/LICENSE --include=/runtime/ \
	--exclude='/*'
NUWA_LICENSE = MIT
NUWA_LICENSE_FILES = LICENSE
# gen-theme.py makes the framework's theme.xml at build time.
NUWA_DEPENDENCIES = openssl sqlite libxml2 icu host-pkgconf \
	$(BR2_PYTHON3_HOST_DEPENDENCY)

# The sample apps' configuration, shared with the QEMU image.
NUWA_APPS_CONF = $(wildcard $(BR2_EXTERNAL_NUWA_PATH)/../rootfs-overlay/etc/nuwa/apps.d/*.conf)

# TARGET_CONFIGURE_OPTS brings Buildroot's CC, CFLAGS, LDFLAGS and
# PKG_CONFIG, which the runtime's Makefile adds its own flags to. WERROR=0:
# a newer compiler's new warnings must not fail the build. The compiler
# knows its sysroot, so no SYSROOT=; BUILD is given because the runtime
# would otherwise name its output directory after the (long) cross prefix.
NUWA_MAKE_ENV = $(TARGET_MAKE_ENV) $(TARGET_CONFIGURE_OPTS)
NUWA_MAKE_OPTS = \
	CROSS_COMPILE="$(TARGET_CROSS)" \
	BUILD=$(@D)/runtime/build/target \
	WERROR=0

define NUWA_BUILD_CMDS
	$(NUWA_MAKE_ENV) $(MAKE) -C $(@D)/runtime $(NUWA_MAKE_OPTS)
endef

# "install" leaves out the runtime's test programs (install-tests has them).
define NUWA_INSTALL_TARGET_CMDS
	$(NUWA_MAKE_ENV) $(MAKE) -C $(@D)/runtime $(NUWA_MAKE_OPTS) \
		DESTDIR=$(TARGET_DIR) install
	$(INSTALL) -D -m 0644 $(NUWA_PKGDIR)/nuwad.conf \
		$(TARGET_DIR)/etc/nuwa/nuwad.conf
	$(INSTALL) -d -m 0755 $(TARGET_DIR)/etc/nuwa/apps.d
	$(INSTALL) -m 0644 $(NUWA_APPS_CONF) $(TARGET_DIR)/etc/nuwa/apps.d/
endef

define NUWA_INSTALL_INIT_SYSV
	$(INSTALL) -D -m 0755 $(NUWA_PKGDIR)/S50nuwad \
		$(TARGET_DIR)/etc/init.d/S50nuwad
endef

define NUWA_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(NUWA_PKGDIR)/nuwad.service \
		$(TARGET_DIR)/usr/lib/systemd/system/nuwad.service
endef

# Each sample app runs under its own uid/gid (rootfs-overlay/etc/nuwa/apps.d);
# login is disabled ("*"), no home, no shell.
define NUWA_USERS
	nuwa-clock 10001 nuwa-clock 10001 * - - - Nuwa app clock
	nuwa-gallery 10002 nuwa-gallery 10002 * - - - Nuwa app gallery
	nuwa-messages 10003 nuwa-messages 10003 * - - - Nuwa app messages
	nuwa-music 10004 nuwa-music 10004 * - - - Nuwa app music
	nuwa-notes 10005 nuwa-notes 10005 * - - - Nuwa app notes
	nuwa-settings 10006 nuwa-settings 10006 * - - - Nuwa app settings
endef

# The app sandbox (docs/security.md): Landlock and seccomp filters; nuwad:
# signalfd, epoll, eventfd, a tmpfs for snapshots, a Unix control socket;
# memory figures from /proc/<pid>/smaps.
define NUWA_LINUX_CONFIG_FIXUPS
	$(call KCONFIG_ENABLE_OPT,CONFIG_SECURITY)
	$(call KCONFIG_ENABLE_OPT,CONFIG_SECURITY_LANDLOCK)
	$(call KCONFIG_ENABLE_OPT,CONFIG_SECCOMP)
	$(call KCONFIG_ENABLE_OPT,CONFIG_SECCOMP_FILTER)
	$(call KCONFIG_ENABLE_OPT,CONFIG_SIGNALFD)
	$(call KCONFIG_ENABLE_OPT,CONFIG_EPOLL)
	$(call KCONFIG_ENABLE_OPT,CONFIG_EVENTFD)
	$(call KCONFIG_ENABLE_OPT,CONFIG_TMPFS)
	$(call KCONFIG_ENABLE_OPT,CONFIG_UNIX)
	$(call KCONFIG_ENABLE_OPT,CONFIG_PROC_PAGE_MONITOR)
endef

$(eval $(generic-package))
