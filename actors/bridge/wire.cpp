#include "actors/bridge/wire.hpp"

#include <cstring>

namespace sluice::actors::wire {

namespace {

template <class T>
void store(char* at, T v) {
  for (std::size_t i = 0; i < sizeof(T); ++i) at[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

template <class T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  store(b, v);
  out.append(b, sizeof(T));
}

template <class T>
void put_at(std::string& out, std::size_t at, T v) {
  store(&out[at], v);
}

// A cursor over untrusted bytes: every read says whether there was enough left.
class reader {
 public:
  explicit reader(std::string_view s) : s_(s) {}

  template <class T>
  bool get(T& v) noexcept {
    if (s_.size() < sizeof(T)) return false;
    T x = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i)
      x = static_cast<T>(x | (static_cast<T>(static_cast<unsigned char>(s_[i])) << (8 * i)));
    v = x;
    s_.remove_prefix(sizeof(T));
    return true;
  }
  bool bytes(std::size_t n, std::string_view& v) noexcept {
    if (s_.size() < n) return false;
    v = s_.substr(0, n);
    s_.remove_prefix(n);
    return true;
  }
  [[nodiscard]] std::size_t left() const noexcept { return s_.size(); }

 private:
  std::string_view s_;
};

void put_name(std::string& out, std::string_view name) {
  put<std::uint8_t>(out, static_cast<std::uint8_t>(name.size()));
  out.append(name);
}

bool get_name(reader& r, std::string_view& name) {
  std::uint8_t n = 0;
  return r.get(n) && r.bytes(n, name);
}

}  // namespace

void batch_writer::start(std::uint64_t first_seq) {
  buf_.clear();
  // The target and one more record of a common size: a batch then never grows, and the
  // buffer stays a heap allocation (an mmap'ed one would cost page faults every batch).
  buf_.reserve(batch_target_bytes + 4096);
  count_ = 0;
  put<std::uint64_t>(buf_, first_seq);
  put<std::uint32_t>(buf_, 0);
}

void batch_writer::add(const record& r) {
  // One append per part: every message a bridge sends passes through here.
  char header[record_header_size];
  store<std::uint64_t>(header, r.id);
  store<std::uint8_t>(header + 8, r.prio);
  store<std::uint8_t>(header + 9, static_cast<std::uint8_t>(r.from.size()));
  store<std::uint8_t>(header + 10, static_cast<std::uint8_t>(r.type.size()));
  store<std::uint8_t>(header + 11, static_cast<std::uint8_t>(r.dest.size()));
  store<std::uint32_t>(header + 12, static_cast<std::uint32_t>(r.payload.size()));
  buf_.append(header, sizeof header).append(r.from).append(r.type).append(r.dest).append(r.payload);
  ++count_;
}

std::string batch_writer::take() {
  put_at<std::uint32_t>(buf_, 8, count_);
  count_ = 0;
  std::string out;
  out.swap(buf_);
  return out;
}

std::optional<std::string> read_batch(std::string_view blob, batch& out) {
  reader r(blob);
  std::uint32_t count = 0;
  if (!r.get(out.first_seq) || !r.get(count)) return "a data batch shorter than its header";
  if (out.first_seq == 0) return "a data batch numbered from 0";
  if (count == 0 || count > r.left() / record_header_size)
    return "a data batch announcing " + std::to_string(count) + " records in " +
           std::to_string(r.left()) + " bytes";
  out.records.clear();
  out.records.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    record rec;
    std::uint8_t from_len = 0, type_len = 0, dest_len = 0;
    std::uint32_t payload_len = 0;
    if (!r.get(rec.id) || !r.get(rec.prio) || !r.get(from_len) || !r.get(type_len) ||
        !r.get(dest_len) || !r.get(payload_len))
      return "a record header cut short";
    if (from_len > inbox::max_agent_name || type_len > inbox::max_type_name ||
        dest_len > inbox::max_agent_name || payload_len > inbox::layout::max_slot_size)
      return "a record with a name or payload longer than any inbox takes";
    if (!r.bytes(from_len, rec.from) || !r.bytes(type_len, rec.type) ||
        !r.bytes(dest_len, rec.dest) || !r.bytes(payload_len, rec.payload))
      return "a record longer than the batch";
    out.records.push_back(rec);
  }
  if (r.left() != 0) return "bytes after the last record of a data batch";
  return std::nullopt;
}

std::string encode_ack(const ack& a) {
  std::string out;
  out.reserve(16 + 8 * a.parked.size() + 80 * a.grants.size());
  put<std::uint64_t>(out, a.through);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(a.parked.size()));
  for (const auto seq : a.parked) put<std::uint64_t>(out, seq);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(a.grants.size()));
  for (const auto& [dest, limit] : a.grants) {
    put_name(out, dest);
    put<std::uint64_t>(out, limit);
  }
  return out;
}

std::optional<ack> decode_ack(std::string_view blob) {
  reader r(blob);
  ack a;
  std::uint32_t n = 0;
  if (!r.get(a.through) || !r.get(n) || n > r.left() / 8) return std::nullopt;
  a.parked.resize(n);
  for (auto& seq : a.parked)
    if (!r.get(seq)) return std::nullopt;
  if (!r.get(n) || n > r.left() / 9) return std::nullopt;
  a.grants.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    std::string_view dest;
    std::uint64_t limit = 0;
    if (!get_name(r, dest) || !r.get(limit) || dest.size() > inbox::max_agent_name)
      return std::nullopt;
    a.grants.emplace_back(std::string(dest), limit);
  }
  if (r.left() != 0) return std::nullopt;
  return a;
}

std::string encode_names(const std::vector<std::string>& names) {
  std::string out;
  put<std::uint32_t>(out, static_cast<std::uint32_t>(names.size()));
  for (const auto& n : names) put_name(out, n);
  return out;
}

std::optional<std::vector<std::string>> decode_names(std::string_view blob) {
  reader r(blob);
  std::uint32_t n = 0;
  if (!r.get(n) || n > r.left()) return std::nullopt;
  std::vector<std::string> out;
  out.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    std::string_view name;
    if (!get_name(r, name) || name.size() > inbox::max_agent_name) return std::nullopt;
    out.emplace_back(name);
  }
  if (r.left() != 0) return std::nullopt;
  return out;
}

}  // namespace sluice::actors::wire
