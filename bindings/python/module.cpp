// sluice._native: the Python module over bindings/ (the library `sluice` itself uses).
// The pure-Python half of the package (sluice/__init__.py) re-exports it and defines the
// exception classes (sluice/_errors.py), which this file raises by kind.
//
// The GIL is held while the module touches Python objects and the inbox (a push or a pop is
// a few hundred nanoseconds, less than giving the GIL away and taking it back) and released
// for every blocking wait, in slices, with a signal check after each: Ctrl-C raises
// KeyboardInterrupt within one slice (bindings/waiter.hpp), having sent or consumed nothing.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cmath>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "bindings/bus.hpp"
#include "bindings/permit.hpp"
#include "bindings/receiver.hpp"
#include "inbox/files/std_fds.hpp"
#include "runtime/logging.hpp"

namespace py = pybind11;
using namespace py::literals;

namespace sluice::bindings {
namespace {

class python_waiter final : public waiter {
 public:
  void block(const std::function<void()>& slice) noexcept override {
    py::gil_scoped_release unlocked;
    slice();
  }
  // A handler that raised (KeyboardInterrupt) leaves its exception set; the translator
  // below then lets it through.
  bool keep_waiting() noexcept override { return PyErr_CheckSignals() == 0; }
};

// Raises the class of sluice._errors that stands for the error's kind.
void set_python_error(const error& e) {
  py::object errors = py::module_::import("sluice._errors");
  py::object cls = errors.attr("class_for")(describe(e.kind()).name);
  py::object exc = cls(e.what());
  if (e.kind() == error_kind::circuit_open)
    exc.attr("retry_after") = std::chrono::duration<double>(e.retry_after).count();
  if (e.kind() == error_kind::backpressure) {
    exc.attr("attempts") = e.attempts;
    exc.attr("waited") = std::chrono::duration<double>(e.waited).count();
  }
  PyErr_SetObject(cls.ptr(), exc.ptr());
}

[[noreturn]] void bad_input(const std::string& message) {
  throw error(error_kind::bad_input, message);
}

inbox::priority priority_of(std::string_view text) {
  if (auto p = inbox::parse_priority(text)) return *p;
  bad_input("invalid priority '" + std::string(text) + "': use critical, high, normal or low");
}

inbox::overflow_policy overflow_of(std::string_view text) {
  if (text == "reject") return inbox::overflow_policy::reject;
  if (text == "drop-oldest") return inbox::overflow_policy::drop_oldest;
  bad_input("invalid overflow '" + std::string(text) + "': use reject or drop-oldest");
}

// As Python would print it: -1, 0.5, 1e+10, nan (std::to_string gives -1.000000).
std::string number_text(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

std::optional<std::chrono::nanoseconds> seconds(std::optional<double> s, const char* what) {
  if (!s) return std::nullopt;
  if (!std::isfinite(*s) || *s < 0 || *s > 1e9) {
    bad_input(std::string("invalid ") + what + " " + number_text(*s) +
              ": use a number of seconds from 0 to 1e9, or None");
  }
  return std::chrono::nanoseconds(static_cast<std::int64_t>(*s * 1e9));
}

// A wait's spin (receiver::pop_wait, which never spins less than spin_before_sleep) in
// microseconds; None: that short default.
std::chrono::nanoseconds spin_of(std::optional<double> us) {
  if (!us) return spin_before_sleep;
  if (!std::isfinite(*us) || *us < 0 || *us > 1e9) {
    bad_input("invalid spin_us " + number_text(*us) +
              ": use a number of microseconds from 0 to 1e9, or None");
  }
  return std::chrono::nanoseconds(static_cast<std::int64_t>(*us * 1e3));
}

std::size_t count_of(std::optional<long long> n, const char* what) {
  if (!n) return 0;
  if (*n < 1)
    bad_input(std::string("invalid ") + what + " " + std::to_string(*n) + ": use 1 or more");
  return static_cast<std::size_t>(*n);
}

// The payload's bytes: bytes, bytearray, memoryview or any other contiguous buffer; text is
// refused so that an encoding is always the caller's choice.
class payload_bytes {
 public:
  explicit payload_bytes(const py::handle& obj) {
    if (PyBytes_Check(obj.ptr())) {
      view_ = std::string_view(PyBytes_AS_STRING(obj.ptr()),
                               static_cast<std::size_t>(PyBytes_GET_SIZE(obj.ptr())));
      return;
    }
    if (PyUnicode_Check(obj.ptr()) || !PyObject_CheckBuffer(obj.ptr())) {
      throw py::type_error("payload must be bytes (or bytearray, memoryview), not " +
                           std::string(Py_TYPE(obj.ptr())->tp_name) +
                           "; encode text first, e.g. text.encode()");
    }
    // A buffer that is not one run of bytes (a strided or a released memoryview): Python's
    // own error says which.
    if (PyObject_GetBuffer(obj.ptr(), &buffer_, PyBUF_SIMPLE) != 0) throw py::error_already_set();
    held_ = true;
    view_ = std::string_view(static_cast<const char*>(buffer_.buf),
                             static_cast<std::size_t>(buffer_.len));
  }
  ~payload_bytes() {
    if (held_) PyBuffer_Release(&buffer_);
  }
  payload_bytes(const payload_bytes&) = delete;
  payload_bytes& operator=(const payload_bytes&) = delete;
  std::string_view view() const noexcept { return view_; }

 private:
  Py_buffer buffer_{};
  bool held_ = false;
  std::string_view view_;
};

struct message {
  std::uint64_t id;
  std::uint64_t sequence;
  std::uint64_t sent_ns;
  std::string priority;
  std::string sender;
  std::string type;
  py::bytes payload;
};

message to_python(const inbox::received_message& m) {
  return {m.id,
          m.sequence,
          m.sent_ns,
          inbox::to_string(m.prio),
          std::string(m.from),
          std::string(m.type),
          py::bytes(m.payload.data(), m.payload.size())};
}

message to_python(const inbox::message& m) {
  return {m.id,   m.sequence, m.sent_ns,           inbox::to_string(m.prio),
          m.from, m.type,     py::bytes(m.payload)};
}

py::dict to_python(const inbox_report& r) {
  py::dict d;
  d["agent"] = r.agent;
  if (!r.error.empty()) {
    d["error"] = r.error;
    return d;
  }
  for (const auto& [key, value] : r.counters) d[key] = value;
  d["breaker"] = r.breaker;
  return d;
}

// A receiver as Python holds it: the consumer and what it iterates with.
struct py_receiver {
  std::shared_ptr<receiver> r;
  std::size_t max;
  std::optional<std::chrono::nanoseconds> timeout;
  std::chrono::nanoseconds spin;
};

// One batch: its messages (already Python objects, so they outlive the batch) and the commit
// that frees them in the inbox. `generation` is the receiver's commit count when the batch was
// read: once the receiver committed since, these messages are gone and commit() does nothing.
struct batch {
  std::shared_ptr<receiver> r;
  py::list messages;
  std::uint64_t generation;
  bool committed = false;

  void commit() {
    if (committed || messages.empty() || r->commits() != generation || r->closed()) {
      committed = true;
      return;
    }
    r->commit();
    committed = true;
  }
};

batch read_batch(const std::shared_ptr<receiver>& r, std::size_t max,
                 std::optional<std::chrono::nanoseconds> timeout, std::chrono::nanoseconds spin) {
  python_waiter w;
  const auto view = r->pop_wait(max, timeout, w, spin);
  const std::uint64_t generation = r->commits();
  // The view is valid only until this receiver's next pop or commit. Copy it out before the
  // first allocation the garbage collector watches (the list): a collection runs finalizers,
  // Python code that may let another thread, or itself, pop from this receiver. Messages and
  // bytes are not watched.
  std::vector<py::object> copied;
  copied.reserve(view.size);
  for (std::size_t i = 0; i < view.size; ++i) copied.push_back(py::cast(to_python(view.data[i])));
  py::list messages(view.size);
  for (std::size_t i = 0; i < view.size; ++i) messages[i] = std::move(copied[i]);
  return batch{r, std::move(messages), generation};
}

// `for batch in receiver`: a fresh iterator per loop, which commits the batch it handed out
// when the loop asks for the next one, that is after the loop's body finished with it. A body
// that raised never comes back, so its batch stays pending (as does the last one of a loop
// left with break: commit it first).
struct batch_iterator {
  py_receiver owner;
  std::optional<batch> current;

  batch next() {
    if (current) current->commit();
    current.reset();
    auto b = read_batch(owner.r, owner.max, owner.timeout, owner.spin);
    if (b.messages.empty()) throw py::stop_iteration();
    current = b;
    return b;
  }
};

std::shared_ptr<bus> open_bus(std::optional<std::string> name,
                              std::optional<std::filesystem::path> dir, bool group) {
  open_options opts;
  if (name) opts.name = *name;
  if (dir) opts.dir = *dir;
  opts.group = group;
  if (name && name->empty()) bad_input("the bus name is empty: give a name, or None");
  if (dir && dir->empty()) bad_input("the bus directory is empty: give a path, or None");
  return bus::open(opts);
}

}  // namespace
}  // namespace sluice::bindings

PYBIND11_MODULE(_native, m) {
  using namespace sluice::bindings;
  namespace inbox = sluice::inbox;
  // Before anything is opened: a process started with stdout closed must not get an inbox
  // as its fd 1 (inbox/files/std_fds.hpp).
  sluice::inbox::ensure_std_fds_open();
  // The library logs through spdlog, whose default logger writes to stdout: send it to
  // stderr at SLUICE_LOG_LEVEL, as the executables do. An invalid level leaves info.
  (void)sluice::runtime::init_logging_from_env();

  m.doc() = "sluice: bounded shared-memory inboxes for local agents (native part)";

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const interrupted&) {
      // The signal handler's exception (KeyboardInterrupt) is already set.
      if (!PyErr_Occurred()) PyErr_SetNone(PyExc_KeyboardInterrupt);
    } catch (const error& e) {
      set_python_error(e);
    }
  });

  py::class_<message>(m, "Message", "One message as received or peeked; payload is bytes.")
      .def_readonly("id", &message::id)
      .def_readonly("sequence", &message::sequence)
      .def_readonly("sent_ns", &message::sent_ns)
      .def_readonly("priority", &message::priority)
      .def_readonly("sender", &message::sender)
      .def_readonly("type", &message::type)
      .def_readonly("payload", &message::payload)
      .def("__repr__", [](const message& msg) {
        return "Message(id=" + std::to_string(msg.id) + ", sender='" + msg.sender + "', type='" +
               msg.type + "', priority='" + msg.priority +
               "', payload=" + py::repr(msg.payload).cast<std::string>() + ")";
      });

  py::class_<batch>(m, "Batch",
                    "Messages received together; commit() frees them in the inbox. As a "
                    "context manager it commits when its block ends without an exception.")
      .def("__len__", [](const batch& b) { return b.messages.size(); })
      .def("__getitem__",
           [](const batch& b, py::object i) { return b.messages.attr("__getitem__")(i); })
      .def("__iter__", [](const batch& b) { return py::iter(b.messages); })
      .def("__bool__", [](const batch& b) { return !b.messages.empty(); })
      .def("commit", &batch::commit)
      .def_readonly("committed", &batch::committed)
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](batch& b, py::object type, py::object, py::object) {
        if (type.is_none()) b.commit();
        return false;
      });

  py::class_<batch_iterator>(m, "_BatchIterator")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", &batch_iterator::next);

  py::class_<py_receiver>(m, "Receiver",
                          "The consumer of one agent's inbox (one process at a time). "
                          "Iterate it for batches, each committed once the loop moves on.")
      .def_property_readonly("agent", [](const py_receiver& r) { return r.r->agent(); })
      .def_property_readonly("closed", [](const py_receiver& r) { return r.r->closed(); })
      .def(
          "batch",
          [](py_receiver& r, std::optional<long long> max, std::optional<double> timeout,
             std::optional<double> spin_us) {
            return read_batch(r.r, max ? count_of(max, "max") : r.max, seconds(timeout, "timeout"),
                              spin_us ? spin_of(spin_us) : r.spin);
          },
          py::kw_only(), "max"_a = py::none(), "timeout"_a = py::none(), "spin_us"_a = py::none(),
          "Waits up to timeout seconds (None: without end) for messages; the batch may be "
          "empty. Until it is committed, asking again returns the same messages. spin_us: "
          "as in Bus.receive, for this wait.")
      .def(
          "commit", [](py_receiver& r) { r.r->commit(); }, "Commits the batch read last.")
      .def(
          "close", [](py_receiver& r) { r.r->close(); },
          "Releases the inbox; an uncommitted batch stays pending.")
      .def("__iter__",
           [](const py_receiver& r) {
             return batch_iterator{r, std::nullopt};
           })
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](py_receiver& r, py::object, py::object, py::object) {
        r.r->close();
        return false;
      });

  py::class_<permit, std::shared_ptr<permit>>(
      m, "Permit", "A permit of a named limit; a context manager that releases its lease on exit.")
      .def_property_readonly("key", &permit::key)
      .def_property_readonly("lease",
                             [](const permit& p) -> py::object {
                               if (p.lease().empty()) return py::none();
                               return py::str(p.lease());
                             })
      .def_property_readonly("limit", &permit::limit)
      .def_property_readonly("remaining", &permit::remaining)
      .def_property_readonly("soft_quota_exceeded", &permit::soft_quota_exceeded)
      .def_property_readonly("released", &permit::released)
      .def("release", &permit::release, "Gives the lease back now (later calls do nothing).")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__",
           [](permit& p, py::object, py::object, py::object) {
             p.release();
             return false;
           })
      .def("__repr__", [](const permit& p) {
        return "Permit(key='" + p.key() +
               "', lease=" + (p.lease().empty() ? "None" : "'" + p.lease() + "'") +
               (p.released() ? ", released" : "") + ")";
      });

  py::class_<bus, std::shared_ptr<bus>>(m, "Bus", "A sluice bus: a directory of inboxes.")
      .def(py::init(&open_bus), "name"_a = py::none(), py::kw_only(), "dir"_a = py::none(),
           "group"_a = false)
      .def_property_readonly("path", [](const bus& b) { return b.dir().string(); })
      .def(
          "send",
          [](bus& b, std::string_view sender, std::string_view to, std::string_view type,
             py::handle payload, std::string_view priority, std::optional<double> timeout,
             bool wait, std::string_view overflow) {
            send_options opts;
            opts.prio = priority_of(priority);
            opts.timeout = seconds(timeout, "timeout");
            opts.wait = wait;
            opts.overflow = overflow_of(overflow);
            const payload_bytes bytes(payload);
            python_waiter w;
            return b.send(sender, to, type, bytes.view(), opts, w);
          },
          "sender"_a, "to"_a, "type"_a, "payload"_a, py::kw_only(), "priority"_a = "normal",
          "timeout"_a = py::none(), "wait"_a = true, "overflow"_a = "reject")
      .def(
          "receive",
          [](const std::shared_ptr<bus>& b, std::string agent, std::optional<long long> max,
             std::optional<double> timeout, std::optional<double> spin_us) {
            // Options first: a bad one must not leave an inbox or a consumer behind.
            const std::size_t batch_max = count_of(max, "max");
            const auto wait = seconds(timeout, "timeout");
            const auto spin = spin_of(spin_us);
            return py_receiver{std::make_shared<receiver>(b, std::move(agent)), batch_max, wait,
                               spin};
          },
          "agent"_a, py::kw_only(), "max"_a = py::none(), "timeout"_a = py::none(),
          "spin_us"_a = py::none())
      .def(
          "peek",
          [](bus& b, std::string_view agent, std::optional<long long> max) {
            const auto pending = b.peek(agent, max ? count_of(max, "max") : SIZE_MAX);
            py::list out(pending.size());
            for (std::size_t i = 0; i < pending.size(); ++i)
              out[i] = py::cast(to_python(pending[i]));
            return out;
          },
          "agent"_a, "max"_a = py::none())
      .def("count", &bus::count, "agent"_a)
      .def(
          "stats",
          [](bus& b, std::optional<std::string> agent) -> py::object {
            if (agent) return to_python(b.stats(*agent));
            py::list out;
            for (const auto& r : b.stats()) out.append(to_python(r));
            return out;
          },
          "agent"_a = py::none())
      .def("agents", &bus::agents)
      .def(
          "acquire",
          [](bus& b, const std::string& key, long long cost, std::string agent,
             std::optional<double> timeout) {
            if (cost < 1) bad_input("invalid cost " + std::to_string(cost) + ": use a number >= 1");
            acquire_options opts;
            opts.cost = static_cast<std::uint64_t>(cost);
            opts.agent = std::move(agent);
            opts.timeout = seconds(timeout, "timeout");
            python_waiter w;
            return permit::acquire(b.dir(), key, opts, w);
          },
          "key"_a, "cost"_a = 1, py::kw_only(), "agent"_a = "python", "timeout"_a = py::none(),
          "Takes `cost` units of the policy's [[limit]] `key`, waiting up to `timeout` seconds "
          "(default 5).")
      .def("__repr__", [](const bus& b) { return "Bus(dir='" + b.dir().string() + "')"; });

  py::list kinds;
  for (std::size_t i = 0; i < error_kind_count; ++i)
    kinds.append(py::make_tuple(error_kinds[i].name, error_kinds[i].exit_code));
  m.attr("_error_kinds") = kinds;
}
