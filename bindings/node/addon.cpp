// sluice.node: the Node.js addon over bindings/ (the library `sluice` itself uses). index.js
// adds the JavaScript half (the receiver's async iteration, Batch); this file is the bus and
// the consumer.
//
// Nothing here blocks the event loop. A send pushes on the main thread and returns a settled
// Promise when the inbox has room; only a send that must back off (and an acquire) goes to a
// libuv pool thread (an AsyncWorker) and settles its Promise from there, waiting in slices
// (bindings/waiter.hpp) that end within one slice when the Node environment goes away. A
// receiver waits on the main thread itself, watching its inbox's bell, or, for a receive with
// spinUs, looking at the inbox on every loop iteration for a while first (bell_wait.hpp).
#include <napi.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings/bus.hpp"
#include "bindings/node/bell_wait.hpp"
#include "bindings/permit.hpp"
#include "bindings/receiver.hpp"
#include "inbox/files/std_fds.hpp"
#include "runtime/logging.hpp"

namespace sluice::bindings {
namespace {

using flag = std::shared_ptr<std::atomic<bool>>;

// Per Node environment (the main thread, or each worker_thread that loads the addon). Its
// destruction at the environment's teardown tells pending waits to end.
struct addon_state {
  flag stopping = std::make_shared<std::atomic<bool>>(false);
  ~addon_state() { stopping->store(true); }
};

flag stopping_flag(Napi::Env env) {
  return env.GetInstanceData<addon_state>()->stopping;
}

// Stops a pool thread's wait once the Node environment goes away.
class environment_waiter final : public waiter {
 public:
  explicit environment_waiter(flag stopping) : stopping_(std::move(stopping)) {}
  bool keep_waiting() noexcept override { return !stopping_->load(); }

 private:
  flag stopping_;
};

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  return s;
}

// err.code 'SLUICE_BACKPRESSURE', err.kind 'backpressure', err.exitCode 75: the kind and
// the exit code `sluice` gives the same failure.
Napi::Error to_js(Napi::Env env, const error& e) {
  const auto& info = describe(e.kind());
  auto err = Napi::Error::New(env, e.what());
  auto o = err.Value();
  o.Set("code", Napi::String::New(env, "SLUICE_" + upper(info.name)));
  o.Set("kind", Napi::String::New(env, info.name));
  o.Set("exitCode", Napi::Number::New(env, info.exit_code));
  if (e.kind() == error_kind::circuit_open) {
    o.Set("retryAfter",
          Napi::Number::New(env, std::chrono::duration<double, std::milli>(e.retry_after).count()));
  }
  if (e.kind() == error_kind::backpressure) {
    o.Set("attempts", Napi::Number::New(env, e.attempts));
    o.Set("waited",
          Napi::Number::New(env, std::chrono::duration<double, std::milli>(e.waited).count()));
  }
  return err;
}

// A wrong argument type is a TypeError with Node's own code for it, as Node's APIs throw;
// a value of the right type that sluice refuses is SLUICE_BAD_INPUT (to_js).
Napi::TypeError type_error(Napi::Env env, const std::string& message) {
  auto err = Napi::TypeError::New(env, message);
  err.Value().Set("code", Napi::String::New(env, "ERR_INVALID_ARG_TYPE"));
  return err;
}

[[noreturn]] void bad_input(const std::string& message) {
  throw error(error_kind::bad_input, message);
}

// An options object holds only keys its call knows: a misspelt one ({ timout: 5 }) is a
// TypeError, as an unexpected keyword is in Python, not an option silently not taken.
void require_known_keys(const Napi::Object& o, const std::vector<std::string>& known,
                        const std::string& call) {
  const auto names = o.GetPropertyNames();
  for (std::uint32_t i = 0; i < names.Length(); ++i) {
    const std::string key = names.Get(i).ToString().Utf8Value();
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    throw type_error(o.Env(),
                     "unknown option '" + key + "' for " + call + " (known: " + list + ")");
  }
}

std::string string_arg(const Napi::Value& v, const char* what) {
  if (!v.IsString()) throw type_error(v.Env(), std::string(what) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

// Milliseconds, or nothing for undefined / null.
std::optional<std::chrono::nanoseconds> millis(const Napi::Value& v, const char* what) {
  if (v.IsUndefined() || v.IsNull()) return std::nullopt;
  const double ms = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!std::isfinite(ms) || ms < 0 || ms > 1e12) {
    bad_input(std::string("invalid ") + what +
              ": use a number of milliseconds from 0 to 1e12, or undefined");
  }
  return std::chrono::nanoseconds(static_cast<std::int64_t>(ms * 1e6));
}

// Microseconds, zero for undefined / null.
std::chrono::nanoseconds micros(const Napi::Value& v, const char* what) {
  if (v.IsUndefined() || v.IsNull()) return {};
  const double us = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!std::isfinite(us) || us < 0 || us > 1e12) {
    bad_input(std::string("invalid ") + what +
              ": use a number of microseconds from 0 to 1e12, or undefined");
  }
  return std::chrono::nanoseconds(static_cast<std::int64_t>(us * 1e3));
}

std::size_t count_arg(const Napi::Value& v, const char* what) {
  if (v.IsUndefined() || v.IsNull()) return 0;
  const double n = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : 0;
  if (!(n >= 1) || n > 1e9 || n != std::floor(n)) {
    bad_input(std::string("invalid ") + what + ": use a whole number from 1 to 1e9, or undefined");
  }
  return static_cast<std::size_t>(n);
}

// A Buffer, another typed array, a DataView (each also over a SharedArrayBuffer) or an
// ArrayBuffer; text is refused so that an encoding is always the caller's choice. The view
// stays valid while the value is reachable (the call). The views' memory is read through
// N-API's view calls, which, unlike asking for the view's ArrayBuffer, work for a shared one.
std::string_view payload_of(const Napi::Value& v) {
  void* data = nullptr;
  std::size_t bytes = 0;
  if (v.IsTypedArray()) {
    napi_typedarray_type type{};
    std::size_t length = 0;
    if (napi_get_typedarray_info(v.Env(), v, &type, &length, &data, nullptr, nullptr) == napi_ok)
      return {static_cast<const char*>(data), v.As<Napi::TypedArray>().ByteLength()};
  } else if (v.IsDataView()) {
    if (napi_get_dataview_info(v.Env(), v, &bytes, &data, nullptr, nullptr) == napi_ok)
      return {static_cast<const char*>(data), bytes};
  } else if (v.IsArrayBuffer()) {
    if (napi_get_arraybuffer_info(v.Env(), v, &data, &bytes) == napi_ok)
      return {static_cast<const char*>(data), bytes};
  }
  throw type_error(v.Env(),
                   "payload must be a Buffer (or another typed array, a "
                   "DataView, an ArrayBuffer); encode text first, e.g. "
                   "Buffer.from(text)");
}

send_options send_options_of(const Napi::Value& v) {
  send_options opts;
  if (v.IsUndefined() || v.IsNull()) return opts;
  if (!v.IsObject()) throw type_error(v.Env(), "send options must be an object");
  auto o = v.As<Napi::Object>();
  require_known_keys(o, {"priority", "timeout", "wait", "overflow"}, "send");
  if (auto p = o.Get("priority"); !p.IsUndefined()) {
    const auto text = string_arg(p, "priority");
    auto prio = inbox::parse_priority(text);
    if (!prio) bad_input("invalid priority '" + text + "': use critical, high, normal or low");
    opts.prio = *prio;
  }
  opts.timeout = millis(o.Get("timeout"), "timeout");
  if (auto w = o.Get("wait"); !w.IsUndefined()) opts.wait = w.ToBoolean().Value();
  if (auto p = o.Get("overflow"); !p.IsUndefined()) {
    const auto text = string_arg(p, "overflow");
    if (text == "reject") {
      opts.overflow = inbox::overflow_policy::reject;
    } else if (text == "drop-oldest") {
      opts.overflow = inbox::overflow_policy::drop_oldest;
    } else {
      bad_input("invalid overflow '" + text + "': use reject or drop-oldest");
    }
  }
  return opts;
}

// Messages cross into JavaScript in bulk, one call per batch, and index.js (unpack) builds the
// Message objects: building each object here cost 3.5 us per message, most of it N-API calls
// per property. The fields travel in columns: ids and send times in BigUint64Arrays; the
// count, then sequence, priority, payload offset and length of each message in a Float64Array;
// sender and type in an Array; the payloads one after another in a Uint8Array, from which
// unpack copies each into a Buffer of its own (from Node's pool when small).
//
// A receiver writes every batch into the same columns, made once, and leaves a sender or type
// string in place when the message in that row has the same one as the last batch's. So a batch
// of one allocates no ArrayBuffer and usually no string, which is most of the pop's cost between
// the bell's wake-up and the awaiting code: with a message every 200 us on the 2-vCPU VM it
// takes 3.2-4 us, against 9.5-11 us with a new payload ArrayBuffer and strings per batch.
struct message_fields {
  std::uint64_t id;
  std::uint64_t sequence;
  std::uint64_t sent_ns;
  inbox::priority prio;
  std::string_view from;
  std::string_view type;
  std::string_view payload;
};

template <class Message>
message_fields fields_of(const Message& m) {
  return {m.id, m.sequence, m.sent_ns, m.prio, m.from, m.type, m.payload};
}

class message_columns {
 public:
  message_columns(Napi::Env env, std::size_t capacity)
      : capacity_(capacity), names_text_(2 * capacity), names_written_(2 * capacity, 0) {
    auto ids = Napi::BigUint64Array::New(env, capacity);
    auto sent = Napi::BigUint64Array::New(env, capacity);
    auto numbers = Napi::Float64Array::New(env, 1 + 4 * capacity);
    auto names = Napi::Array::New(env, 2 * capacity);
    ids_ = ids.Data();
    sent_ = sent.Data();
    numbers_ = numbers.Data();
    auto columns = Napi::Object::New(env);
    columns.Set("ids", ids);
    columns.Set("sent", sent);
    columns.Set("numbers", numbers);
    columns.Set("names", names);
    columns_ = Napi::Persistent(columns);
    names_ = Napi::Persistent(names);
    ids_ref_ = Napi::Persistent(ids);
    sent_ref_ = Napi::Persistent(sent);
    numbers_ref_ = Napi::Persistent(numbers);
  }

  // {ids, sent, numbers, names, payloads}, as index.js reads them.
  Napi::Object value() const { return columns_.Value(); }

  // Writes n messages into the columns.
  template <class Get>
  void fill(Napi::Env env, std::size_t n, Get get) {
    if (n > capacity_) throw std::logic_error("sluice: a batch larger than its columns");
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < n; ++i) bytes += get(i).payload.size();
    reserve_payloads(env, bytes);
    auto names = names_.Value();
    numbers_[0] = static_cast<double>(n);
    std::size_t offset = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const message_fields m = get(i);
      std::memcpy(payloads_ + offset, m.payload.data(), m.payload.size());
      ids_[i] = m.id;
      sent_[i] = m.sent_ns;
      double* row = numbers_ + 1 + 4 * i;
      // A sequence stays below 2^40 (inbox/inbox.hpp, ids), exact in a double.
      row[0] = static_cast<double>(m.sequence);
      row[1] = static_cast<double>(m.prio);
      row[2] = static_cast<double>(offset);
      row[3] = static_cast<double>(m.payload.size());
      set_name(env, names, 2 * i, m.from);
      set_name(env, names, 2 * i + 1, m.type);
      offset += m.payload.size();
    }
  }

 private:
  void set_name(Napi::Env env, Napi::Array& names, std::size_t k, std::string_view text) {
    if (names_written_[k] && names_text_[k] == text) return;
    names_text_[k].assign(text);
    names_written_[k] = 1;
    names.Set(static_cast<std::uint32_t>(k), Napi::String::New(env, text.data(), text.size()));
  }

  void reserve_payloads(Napi::Env env, std::size_t bytes) {
    if (bytes <= payload_capacity_ && payloads_ != nullptr) return;
    payload_capacity_ = std::max<std::size_t>({bytes, 2 * payload_capacity_, 4096});
    auto buffer = Napi::ArrayBuffer::New(env, payload_capacity_);
    payloads_ = static_cast<char*>(buffer.Data());
    payloads_ref_ = Napi::Persistent(buffer);
    columns_.Value().Set("payloads", Napi::Uint8Array::New(env, payload_capacity_, buffer, 0));
  }

  std::size_t capacity_;
  // Into the arrays' backing stores, which stay where they are while the references below
  // hold the arrays (whatever becomes of the columns object's properties).
  std::uint64_t* ids_ = nullptr;
  std::uint64_t* sent_ = nullptr;
  double* numbers_ = nullptr;
  char* payloads_ = nullptr;
  std::size_t payload_capacity_ = 0;
  Napi::Reference<Napi::BigUint64Array> ids_ref_;
  Napi::Reference<Napi::BigUint64Array> sent_ref_;
  Napi::Reference<Napi::Float64Array> numbers_ref_;
  Napi::Reference<Napi::ArrayBuffer> payloads_ref_;
  Napi::ObjectReference columns_;
  Napi::Reference<Napi::Array> names_;
  std::vector<std::string> names_text_;  // what names holds, row by row
  std::vector<char> names_written_;
};

Napi::Object report_of(Napi::Env env, const inbox_report& r) {
  auto o = Napi::Object::New(env);
  o.Set("agent", r.agent);
  if (!r.error.empty()) {
    o.Set("error", r.error);
    return o;
  }
  for (const auto& [key, value] : r.counters)
    o.Set(key, Napi::Number::New(env, static_cast<double>(value)));
  o.Set("breaker", r.breaker);
  return o;
}

// Work that may wait, on a libuv pool thread, settling a Promise: `work` runs there with a
// waiter that stops when the Node environment shuts down (`stopped` is then the rejection's
// message); `resolve` turns its result into JavaScript on the main thread.
template <class Result>
class promise_worker final : public Napi::AsyncWorker {
 public:
  using work_fn = std::function<Result(waiter&)>;
  using resolve_fn = std::function<Napi::Value(Napi::Env, Result&)>;

  // Queues the work and returns its Promise (the worker deletes itself once settled).
  static Napi::Promise start(Napi::Env env, const char* name, std::string stopped, work_fn work,
                             resolve_fn resolve) {
    auto* w =
        new promise_worker(env, name, std::move(stopped), std::move(work), std::move(resolve));
    auto promise = w->deferred_.Promise();
    w->Queue();
    return promise;
  }

 private:
  promise_worker(Napi::Env env, const char* name, std::string stopped, work_fn work,
                 resolve_fn resolve)
      : Napi::AsyncWorker(env, name),
        deferred_(Napi::Promise::Deferred::New(env)),
        waiter_(stopping_flag(env)),
        stopped_(std::move(stopped)),
        work_(std::move(work)),
        resolve_(std::move(resolve)) {}

  void Execute() override {
    try {
      result_ = work_(waiter_);
    } catch (const error& e) {
      failure_.emplace(e);
    } catch (const interrupted&) {
      failure_.emplace(error_kind::unavailable, stopped_);
    } catch (const std::exception& e) {
      failure_.emplace(error_kind::internal, e.what());
    }
  }
  void OnOK() override {
    if (failure_) return deferred_.Reject(to_js(Env(), *failure_).Value());
    deferred_.Resolve(resolve_(Env(), result_));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

  Napi::Promise::Deferred deferred_;
  environment_waiter waiter_;
  std::string stopped_;
  work_fn work_;
  resolve_fn resolve_;
  Result result_{};
  std::optional<error> failure_;
};

// permit.release(), called as a method of the permit object; later calls do nothing.
Napi::Value release_permit(const Napi::CallbackInfo& info) {
  auto native =
      info.This().IsObject() ? info.This().As<Napi::Object>().Get("_native") : Napi::Value();
  if (native.IsEmpty() || !native.IsExternal())
    throw type_error(info.Env(), "release() must be called on a permit");
  (*native.As<Napi::External<std::shared_ptr<permit>>>().Data())->release();
  return info.Env().Undefined();
}

// A permit as JavaScript sees it: its fields, release(), and `_native` holding the C++ permit,
// whose destructor gives the lease back if the object is collected without release().
Napi::Object permit_object(Napi::Env env, std::shared_ptr<permit> p) {
  auto o = Napi::Object::New(env);
  o.Set("key", p->key());
  o.Set("lease", p->lease().empty() ? env.Null() : Napi::String::New(env, p->lease()));
  o.Set("limit", Napi::Number::New(env, static_cast<double>(p->limit())));
  o.Set("remaining", Napi::Number::New(env, static_cast<double>(p->remaining())));
  o.Set("softQuotaExceeded", Napi::Boolean::New(env, p->soft_quota_exceeded()));
  o.Set("_native", Napi::External<std::shared_ptr<permit>>::New(
                       env, new std::shared_ptr<permit>(std::move(p)),
                       [](Napi::Env, std::shared_ptr<permit>* held) { delete held; }));
  o.Set("release", Napi::Function::New(env, release_permit, "release"));
  return o;
}

class bus_wrap final : public Napi::ObjectWrap<bus_wrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(
        env, "Bus",
        {InstanceAccessor<&bus_wrap::path>("path"), InstanceMethod<&bus_wrap::send>("send"),
         InstanceMethod<&bus_wrap::peek>("peek"), InstanceMethod<&bus_wrap::count>("count"),
         InstanceMethod<&bus_wrap::stats>("stats"), InstanceMethod<&bus_wrap::agents>("agents"),
         InstanceMethod<&bus_wrap::acquire>("acquire")});
  }

  // new Bus(), new Bus('name'), new Bus({name, dir, group})
  explicit bus_wrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<bus_wrap>(info) {
    auto env = info.Env();
    open_options opts;
    const auto arg = info[0];
    if (arg.IsString()) {
      opts.name = arg.As<Napi::String>().Utf8Value();
      if (opts.name.empty())
        throw to_js(env, error(error_kind::bad_input, "the bus name is empty"));
    } else if (arg.IsObject()) {
      auto o = arg.As<Napi::Object>();
      require_known_keys(o, {"name", "dir", "group"}, "new Bus");
      if (auto n = o.Get("name"); !n.IsUndefined() && !n.IsNull())
        opts.name = string_arg(n, "name");
      if (auto d = o.Get("dir"); !d.IsUndefined() && !d.IsNull()) opts.dir = string_arg(d, "dir");
      opts.group = o.Get("group").ToBoolean().Value();
    } else if (!arg.IsUndefined() && !arg.IsNull()) {
      throw type_error(env, "new Bus(name | {name, dir, group})");
    }
    try {
      bus_ = bus::open(opts);
    } catch (const error& e) {
      throw to_js(env, e);
    }
  }

  const std::shared_ptr<bus>& get() const noexcept { return bus_; }

 private:
  Napi::Value path(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), bus_->dir().string());
  }

  // send(from, to, type, payload, {priority, timeout, wait, overflow}) -> Promise<bigint>
  Napi::Value send(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    auto deferred = Napi::Promise::Deferred::New(env);
    try {
      const auto from = string_arg(info[0], "from");
      const auto to = string_arg(info[1], "to");
      const auto type = string_arg(info[2], "type");
      const auto payload = payload_of(info[3]);
      const auto opts = send_options_of(info[4]);
      if (auto id = bus_->try_send(from, to, type, payload, opts)) {
        deferred.Resolve(Napi::BigInt::New(env, *id));
        return deferred.Promise();
      }
      // The inbox is full: the whole backpressured send again, on a pool thread, with copies.
      return promise_worker<std::uint64_t>::start(
          env, "sluice.send",
          "the send to " + to +
              " was stopped (the Node environment is shutting down): nothing sent",
          [b = bus_, from, to, type, payload = std::string(payload), opts](waiter& w) {
            return b->send(from, to, type, payload, opts, w);
          },
          [](Napi::Env e, std::uint64_t& id) -> Napi::Value { return Napi::BigInt::New(e, id); });
    } catch (const error& e) {
      deferred.Reject(to_js(env, e).Value());
    } catch (const Napi::Error& e) {
      deferred.Reject(e.Value());
    }
    return deferred.Promise();
  }

  Napi::Value peek(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    try {
      const std::size_t max = count_arg(info[1], "max");
      const auto pending = bus_->peek(string_arg(info[0], "agent"), max == 0 ? SIZE_MAX : max);
      // Columns of its own (message_columns).
      message_columns columns(env, pending.size());
      columns.fill(env, pending.size(), [&](std::size_t i) { return fields_of(pending[i]); });
      return columns.value();
    } catch (const error& e) {
      throw to_js(env, e);
    }
  }

  Napi::Value count(const Napi::CallbackInfo& info) {
    try {
      return Napi::Number::New(info.Env(),
                               static_cast<double>(bus_->count(string_arg(info[0], "agent"))));
    } catch (const error& e) {
      throw to_js(info.Env(), e);
    }
  }

  Napi::Value stats(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    try {
      if (!info[0].IsUndefined()) return report_of(env, bus_->stats(string_arg(info[0], "agent")));
      const auto rows = bus_->stats();
      auto out = Napi::Array::New(env, rows.size());
      for (std::size_t i = 0; i < rows.size(); ++i)
        out.Set(static_cast<std::uint32_t>(i), report_of(env, rows[i]));
      return out;
    } catch (const error& e) {
      throw to_js(env, e);
    }
  }

  // acquire(key, {cost, agent, timeout}) -> Promise<permit>
  Napi::Value acquire(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    auto deferred = Napi::Promise::Deferred::New(env);
    try {
      acquire_options opts;
      opts.agent = "node";
      const auto key = string_arg(info[0], "key");
      if (!info[1].IsUndefined() && !info[1].IsNull()) {
        if (!info[1].IsObject()) throw type_error(env, "acquire options must be an object");
        auto o = info[1].As<Napi::Object>();
        require_known_keys(o, {"cost", "agent", "timeout"}, "acquire");
        if (const std::size_t cost = count_arg(o.Get("cost"), "cost"); cost != 0) opts.cost = cost;
        if (auto a = o.Get("agent"); !a.IsUndefined()) opts.agent = string_arg(a, "agent");
        opts.timeout = millis(o.Get("timeout"), "timeout");
      }
      return promise_worker<std::shared_ptr<permit>>::start(
          env, "sluice.acquire",
          "the acquire of " + key +
              " was stopped (the Node environment is shutting down): nothing taken",
          [dir = bus_->dir(), key, opts](waiter& w) { return permit::acquire(dir, key, opts, w); },
          [](Napi::Env e, std::shared_ptr<permit>& p) -> Napi::Value {
            return permit_object(e, std::move(p));
          });
    } catch (const error& e) {
      deferred.Reject(to_js(env, e).Value());
    } catch (const Napi::Error& e) {
      deferred.Reject(e.Value());
    }
    return deferred.Promise();
  }

  Napi::Value agents(const Napi::CallbackInfo& info) {
    const auto names = bus_->agents();
    auto out = Napi::Array::New(info.Env(), names.size());
    for (std::size_t i = 0; i < names.size(); ++i) out.Set(static_cast<std::uint32_t>(i), names[i]);
    return out;
  }

  std::shared_ptr<bus> bus_;
};

// The consumer of one agent's inbox, all on the main thread; waits watch its bell
// (bell_wait.hpp).
class receiver_wrap final : public Napi::ObjectWrap<receiver_wrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(
        env, "Receiver",
        {InstanceAccessor<&receiver_wrap::agent>("agent"),
         InstanceAccessor<&receiver_wrap::closed>("closed"),
         InstanceAccessor<&receiver_wrap::commits>("commits"),
         InstanceAccessor<&receiver_wrap::spinning>("spinning"),
         InstanceAccessor<&receiver_wrap::columns>("columns"),
         InstanceMethod<&receiver_wrap::pop>("pop"), InstanceMethod<&receiver_wrap::wait>("wait"),
         InstanceMethod<&receiver_wrap::commit>("commit"),
         InstanceMethod<&receiver_wrap::close>("close")});
  }

  // new Receiver(bus, agent)
  explicit receiver_wrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<receiver_wrap>(info) {
    auto env = info.Env();
    if (!info[0].IsObject()) throw type_error(env, "new Receiver(bus, agent)");
    auto* b = Napi::ObjectWrap<bus_wrap>::Unwrap(info[0].As<Napi::Object>());
    const auto agent = string_arg(info[1], "agent");
    try {
      receiver_ = std::make_shared<receiver>(b->get(), agent);
    } catch (const error& e) {
      throw to_js(env, e);
    }
  }

  ~receiver_wrap() override {
    if (receiver_) receiver_->close();
    if (waits_) waits_->release();
  }

 private:
  Napi::Value agent(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), receiver_->agent());
  }
  Napi::Value closed(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), receiver_->closed());
  }
  Napi::Value commits(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(receiver_->commits()));
  }
  Napi::Value spinning(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), waits_ != nullptr && waits_->spinning());
  }

  // The columns every pop writes into (message_columns), made on first use.
  Napi::Value columns(const Napi::CallbackInfo& info) { return columns_of(info.Env()).value(); }

  // pop(max): the pending batch (up to max; 0 or undefined: the bus's batch size), at once,
  // into `columns`.
  Napi::Value pop(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    try {
      const auto batch = receiver_->pop(count_arg(info[0], "max"));
      columns_of(env).fill(env, batch.size,
                           [&](std::size_t i) { return fields_of(batch.data[i]); });
      return env.Undefined();
    } catch (const error& e) {
      throw to_js(env, e);
    }
  }

  // wait(timeoutMs, spinUs) -> Promise<boolean>: true when a message may be there; looks at
  // the inbox on every loop iteration for the first spinUs (bell_wait.hpp).
  Napi::Value wait(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    try {
      const auto timeout = millis(info[0], "timeout");
      const auto spin = micros(info[1], "spinUs");
      if (!waits_) waits_ = bell_wait::open(env, receiver_);
      return waits_->wait(env, timeout, spin);
    } catch (const error& e) {
      throw to_js(env, e);
    }
  }

  Napi::Value commit(const Napi::CallbackInfo& info) {
    try {
      receiver_->commit();
    } catch (const error& e) {
      throw to_js(info.Env(), e);
    }
    return info.Env().Undefined();
  }

  // close(): releases the inbox; pending waits settle false.
  Napi::Value close(const Napi::CallbackInfo& info) {
    receiver_->close();
    if (waits_) waits_->settle_all_false();
    return info.Env().Undefined();
  }

  message_columns& columns_of(Napi::Env env) {
    if (!columns_) columns_.emplace(env, receiver_->max_batch());
    return *columns_;
  }

  std::shared_ptr<receiver> receiver_;
  std::optional<message_columns> columns_;
  bell_wait* waits_ = nullptr;  // opened by the first wait; frees itself once released
};

// checkReceiveOptions(max, timeout, spinUs): throws SLUICE_BAD_INPUT as a receive would, for
// index.js to check options that no wait might reach (a timeout already over, a receiver's
// defaults) when they are given.
Napi::Value check_receive_options(const Napi::CallbackInfo& info) {
  try {
    (void)count_arg(info[0], "max");
    (void)millis(info[1], "timeout");
    (void)micros(info[2], "spinUs");
    return info.Env().Undefined();
  } catch (const error& e) {
    throw to_js(info.Env(), e);
  }
}

// checkOptionKeys(options, known, call): require_known_keys for index.js's own options.
Napi::Value check_option_keys(const Napi::CallbackInfo& info) {
  if (!info[0].IsObject()) throw type_error(info.Env(), "options must be an object");
  std::vector<std::string> known;
  const auto list = info[1].As<Napi::Array>();
  for (std::uint32_t i = 0; i < list.Length(); ++i)
    known.push_back(list.Get(i).ToString().Utf8Value());
  require_known_keys(info[0].As<Napi::Object>(), known, string_arg(info[2], "call"));
  return info.Env().Undefined();
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  // Before anything is opened: a process started with stdout closed must not get an inbox
  // as its fd 1 (inbox/files/std_fds.hpp).
  inbox::ensure_std_fds_open();
  // spdlog's default logger writes to stdout: send the library's lines to stderr at
  // SLUICE_LOG_LEVEL, as the executables do. An invalid level leaves info.
  (void)runtime::init_logging_from_env();
  env.SetInstanceData(new addon_state);

  exports.Set("Bus", bus_wrap::define(env));
  exports.Set("Receiver", receiver_wrap::define(env));
  exports.Set("checkReceiveOptions",
              Napi::Function::New(env, check_receive_options, "checkReceiveOptions"));
  exports.Set("checkOptionKeys", Napi::Function::New(env, check_option_keys, "checkOptionKeys"));
  auto kinds = Napi::Object::New(env);
  for (std::size_t i = 0; i < error_kind_count; ++i) {
    auto k = Napi::Object::New(env);
    k.Set("code", "SLUICE_" + upper(error_kinds[i].name));
    k.Set("exitCode", error_kinds[i].exit_code);
    kinds.Set(error_kinds[i].name, k);
  }
  exports.Set("errorKinds", kinds);
  auto priorities = Napi::Array::New(env, inbox::lane_count);
  for (std::size_t lane = 0; lane < inbox::lane_count; ++lane)
    priorities.Set(static_cast<std::uint32_t>(lane),
                   inbox::to_string(static_cast<inbox::priority>(lane)));
  exports.Set("priorities", priorities);
  return exports;
}

}  // namespace
}  // namespace sluice::bindings

namespace {
Napi::Object init_sluice(Napi::Env env, Napi::Object exports) {
  return sluice::bindings::init(env, exports);
}
}  // namespace

NODE_API_MODULE(sluice, init_sluice)
