// Unix datagrams to the service manager: the transport of the sd_notify and journal protocols.
//
// systemd documents both protocols as stable interfaces for programs that do not link
// libsystemd (sd_notify(3) "Notes", systemd.io/JOURNAL_NATIVE_PROTOCOL). lastcalld speaks them
// itself: libsystemd would map libgcrypt, liblzma, libzstd, liblz4 and libcap into a daemon that
// only ever sends a few datagrams (about 1 MiB of its idle RSS, see bench/RESULTS.md).
//
// Thread-safety: the functions are stateless; each call uses its own socket.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace lastcall {

// Sends `payload` as one datagram to `address`: a filesystem path ("/run/systemd/notify") or,
// with a leading '@', an abstract-namespace name (as $NOTIFY_SOCKET may say). When the datagram
// is too large for the socket (EMSGSIZE) and `fd_fallback` is set, the payload is written to a
// sealed memfd and that descriptor is sent instead, as the journal protocol allows.
Status SendUnixDatagram(std::string_view address, std::string_view payload,
                        bool fd_fallback = false);

}  // namespace lastcall
