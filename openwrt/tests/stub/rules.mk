# rules.mk - stand-in for an OpenWrt buildroot's rules.mk, for `make -n` checks of the
# feed's package Makefiles without an SDK (openwrt/tests/check-feed.sh).
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
#
# Only the names the feed's Makefiles use, with the meanings of the real rules.mk
# (INSTALL_* modes, TARGET_* flags, directories). Nothing is downloaded or built.

STUB_ROOT     := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
INCLUDE_DIR   ?= $(STUB_ROOT)/include
STUB_OUT      ?= /tmp/openwrt-stub
BUILD_DIR     ?= $(STUB_OUT)/build_dir/target-mipsel_24kc_musl
STAGING_DIR   ?= $(STUB_OUT)/staging_dir/target-mipsel_24kc_musl
DL_DIR        ?= $(STUB_OUT)/dl
TARGET_CROSS  ?= mipsel-openwrt-linux-musl-
ARCH          ?= mipsel

TARGET_CC       := $(TARGET_CROSS)gcc
TARGET_CFLAGS   := -Os -pipe -mno-branch-likely -mips32r2 -mtune=24kc -fno-caller-saves
TARGET_CPPFLAGS := -I$(STAGING_DIR)/usr/include
TARGET_LDFLAGS  := -L$(STAGING_DIR)/usr/lib -znow -zrelro
TARGET_CONFIGURE_OPTS = AR="$(TARGET_CROSS)gcc-ar" AS="$(TARGET_CC) -c" LD="$(TARGET_CROSS)ld" \
	NM="$(TARGET_CROSS)gcc-nm" CC="$(TARGET_CC)" GCC="$(TARGET_CC)" CXX="$(TARGET_CROSS)g++" \
	RANLIB="$(TARGET_CROSS)gcc-ranlib" STRIP="$(TARGET_CROSS)strip" OBJCOPY="$(TARGET_CROSS)objcopy" \
	OBJDUMP="$(TARGET_CROSS)objdump" SIZE="$(TARGET_CROSS)size"
PKG_CONFIG    := $(STUB_OUT)/staging_dir/host/bin/pkg-config

INSTALL_BIN  := install -m0755
INSTALL_SUID := install -m4755
INSTALL_DIR  := install -d -m0755
INSTALL_DATA := install -m0644
INSTALL_CONF := install -m0600
CP           := cp -fpR
LN           := ln -sf
TAR          := tar
FIND         := find
RSTRIP       := : rstrip
