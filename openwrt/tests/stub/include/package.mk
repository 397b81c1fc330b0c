# package.mk - stand-in for $(INCLUDE_DIR)/package.mk (see ../rules.mk).
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
#
# `make -n` of a feed package Makefile against this file:
#  - checks what the feed's conventions require (PKG_* fields, apk-compatible
#    version and release, source + hash or a local Build/Prepare, Package/<name> with
#    SECTION/CATEGORY/TITLE, DEPENDS naming known packages and declared config
#    symbols, USERID syntax, conffiles that the install step really installs, and
#    ./files/... that exist); a failed check stops make with an error;
#  - prints the prepare, configure, compile and install steps with the SDK's
#    variables expanded (targets stub-all, the default, and stub-install-<pkg>).
# It does not download, compile or package anything.

empty :=
space := $(empty) $(empty)
tab := $(empty)	$(empty)
define newline


endef
# The recipes use a literal `make`, not $(MAKE): make -n runs lines that use $(MAKE).
STUB_MAKE := make

stub_fail = $(error [stub package.mk] $(PKG_NAME): $(1))

# --- source package fields (set before this file is included) -------------------
$(if $(PKG_NAME),,$(call stub_fail,PKG_NAME missing))
$(if $(PKG_VERSION),,$(call stub_fail,PKG_VERSION missing))
$(if $(PKG_RELEASE),,$(call stub_fail,PKG_RELEASE missing))
$(if $(PKG_LICENSE),,$(call stub_fail,PKG_LICENSE missing (SPDX id)))
# apk (OpenWrt 25.x): version <major>.<minor>.<fixup>[...] without '-', release a
# plain integer.
$(if $(shell echo '$(PKG_VERSION)' | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+([._~+a-z0-9]*)$$' && echo ok),,\
  $(call stub_fail,PKG_VERSION '$(PKG_VERSION)' is not <major>.<minor>.<fixup>))
$(if $(shell echo '$(PKG_RELEASE)' | grep -Eq '^[0-9]+$$' && echo ok),,\
  $(call stub_fail,PKG_RELEASE '$(PKG_RELEASE)' is not an integer))
ifeq ($(PKG_SOURCE_PROTO),git)
$(if $(PKG_SOURCE_URL),,$(call stub_fail,git source without PKG_SOURCE_URL))
$(if $(PKG_SOURCE_VERSION),,$(call stub_fail,git source without PKG_SOURCE_VERSION))
$(if $(PKG_MIRROR_HASH),,$(call stub_fail,git source without PKG_MIRROR_HASH))
else ifneq ($(PKG_SOURCE),)
$(if $(PKG_SOURCE_URL),,$(call stub_fail,PKG_SOURCE without PKG_SOURCE_URL))
$(if $(shell echo '$(PKG_HASH)' | grep -Eq '^([0-9a-f]{64}|skip)$$' && echo ok),,\
  $(call stub_fail,PKG_HASH '$(PKG_HASH)' is not a sha256))
endif

PKG_BUILD_DIR   ?= $(BUILD_DIR)/$(PKG_NAME)-$(PKG_VERSION)
PKG_INSTALL_DIR ?= $(PKG_BUILD_DIR)/ipkg-install
PKG_JOBS        := $(if $(PKG_BUILD_PARALLEL),-j4,-j1)
MAKE_PATH       ?= .

# As in include/package-defaults.mk: flags in the environment, tools on the command line.
MAKE_VARS = CFLAGS="$(TARGET_CFLAGS) $(EXTRA_CFLAGS) $(TARGET_CPPFLAGS) $(EXTRA_CPPFLAGS)" \
	CXXFLAGS="$(TARGET_CFLAGS) $(EXTRA_CFLAGS) $(TARGET_CPPFLAGS)" \
	LDFLAGS="$(TARGET_LDFLAGS) $(EXTRA_LDFLAGS)"
MAKE_FLAGS = $(TARGET_CONFIGURE_OPTS) CROSS="$(TARGET_CROSS)" ARCH="$(ARCH)"
MAKE_INSTALL_FLAGS = $(MAKE_FLAGS) DESTDIR="$(PKG_INSTALL_DIR)"

define Build/Prepare/Default
	mkdir -p $(PKG_BUILD_DIR)
	$(TAR) -C $(PKG_BUILD_DIR)/.. -xzf $(DL_DIR)/$(PKG_SOURCE)
endef
define Build/Configure/Default
	: configure $(PKG_NAME): nothing to do for a plain Makefile
endef
define Build/Compile/Default
	$(MAKE_VARS) $(STUB_MAKE) $(PKG_JOBS) -C $(PKG_BUILD_DIR)/$(MAKE_PATH) $(MAKE_FLAGS) $(1)
endef
define Build/Install/Default
	$(MAKE_VARS) $(STUB_MAKE) -C $(PKG_BUILD_DIR)/$(MAKE_PATH) $(MAKE_INSTALL_FLAGS) install
endef

Build/Prepare = $(call Build/Prepare/Default)
Build/Configure = $(call Build/Configure/Default)
Build/Compile = $(call Build/Compile/Default)
Build/Install = $(if $(PKG_INSTALL)$(CMAKE_INSTALL),$(call Build/Install/Default))

# Packages a DEPENDS may name: the OpenWrt packages/base feeds we rely on and ours.
STUB_KNOWN_PACKAGES ?= libc libpthread librt libmodbus libhiredis cJSON libcurl \
	libopenssl libmosquitto libmosquitto-ssl libmosquitto-nossl libubox libuci \
	libpaho-mqtt-c libpaho-mqtt-c-ssl ca-bundle redis-server mosquitto-ssl zlib librdkafka \
	libnats libmicrohttpd
# Config symbols that exist without being declared by the package.
stub_builtin_symbol = $(filter PACKAGE_% TARGET_% USE_% BUSYBOX_% IPV6 KERNEL_%,$(1))

# stub_dep_name TOKEN -> package named by +[COND:]name
stub_dep_name = $(lastword $(subst :, ,$(patsubst +%,%,$(1))))
# stub_dep_cond TOKEN -> config symbols of COND in +COND:name
lparen := (
rparen := )
stub_dep_cond = $(if $(findstring :,$(1)),$(subst |, ,$(subst &, ,$(subst !, ,$(subst $(lparen), ,$(subst $(rparen), ,$(firstword $(subst :, ,$(patsubst +%,%,$(1))))))))))

define stub_check_package
  # Evaluate the package description the way the metadata scan does.
  SECTION :=
  CATEGORY :=
  TITLE :=
  DEPENDS :=
  USERID :=
  $$(eval $$(subst $$(tab),,$$(Package/$(1))))
  $$(if $$(TITLE),,$$(call stub_fail,Package/$(1) has no TITLE))
  $$(if $$(SECTION),,$$(call stub_fail,Package/$(1) has no SECTION))
  $$(if $$(CATEGORY),,$$(call stub_fail,Package/$(1) has no CATEGORY))
  STUB_DEPS_$(1) := $$(DEPENDS)
  STUB_USERID_$(1) := $$(USERID)
  $$(foreach d,$$(filter +%,$$(DEPENDS)),\
    $$(if $$(filter $$(call stub_dep_name,$$(d)),$$(STUB_KNOWN_PACKAGES)),,\
      $$(call stub_fail,Package/$(1) DEPENDS on unknown package '$$(call stub_dep_name,$$(d))'))\
    $$(foreach s,$$(call stub_dep_cond,$$(d)),\
      $$(if $$(call stub_builtin_symbol,$$(s))$$(filter $$(s),$$(subst $$(newline), ,$$(Package/$(1)/config))),,\
        $$(call stub_fail,Package/$(1) DEPENDS uses undeclared config symbol '$$(s)'))))
  $$(if $$(USERID),$$(if $$(shell echo '$$(USERID)' | grep -Eq '^[a-z_][a-z0-9_-]*=[0-9]+:[a-z_][a-z0-9_-]*=[0-9]+(:[a-z_][a-z0-9_-]*=[0-9]+(,[a-z_][a-z0-9_-]*=[0-9]+)*)?$$$$' && echo ok),,\
    $$(call stub_fail,Package/$(1) USERID '$$(USERID)' is not user=uid:group=gid[:group=gid,...])))
  $$(if $$(Package/$(1)/install),,$$(call stub_fail,Package/$(1)/install missing))
  STUB_INSTALL_TEXT_$(1) := $$(call Package/$(1)/install,@ROOT@)
  $$(foreach f,$$(filter ./files/%,$$(STUB_INSTALL_TEXT_$(1))),\
    $$(if $$(wildcard $$(f)),,$$(call stub_fail,Package/$(1)/install uses missing $$(f))))
  $$(foreach c,$$(strip $$(Package/$(1)/conffiles)),\
    $$(if $$(findstring @ROOT@$$(patsubst %/,%,$$(c)),$$(STUB_INSTALL_TEXT_$(1))),,\
      $$(call stub_fail,conffile $$(c) of $(1) is not installed by Package/$(1)/install)))
endef

STUB_PACKAGES :=
define BuildPackage
  $(if $(Package/$(1)),,$(call stub_fail,BuildPackage $(1) without Package/$(1)))
  $(call stub_check_package,$(1))
  STUB_PACKAGES += $(1)

  .PHONY: stub-install-$(1)
  stub-install-$(1): stub-install
	@echo '== install $(1) (DEPENDS: $$(STUB_DEPS_$(1)); USERID: $$(STUB_USERID_$(1)))'
	$$(call Package/$(1)/install,$(STUB_OUT)/ipkg-$(1))
	@echo '== conffiles $(1): $$(strip $$(Package/$(1)/conffiles))'
  stub-all: stub-install-$(1)
endef

.DEFAULT_GOAL := stub-all
.PHONY: stub-all stub-prepare stub-configure stub-compile stub-install
stub-prepare:
	@echo '== prepare $(PKG_NAME) $(PKG_VERSION)-$(PKG_RELEASE) in $(PKG_BUILD_DIR)'
	$(Build/Prepare)
stub-configure: stub-prepare
	@echo '== configure'
	$(Build/Configure)
stub-compile: stub-configure
	@echo '== compile'
	$(Build/Compile)
stub-install: stub-compile
	@echo '== install to $(PKG_INSTALL_DIR)'
	$(Build/Install)
	$(call Build/InstallDev,$(STAGING_DIR))
stub-all:
	@echo '== packages: $(STUB_PACKAGES)'
