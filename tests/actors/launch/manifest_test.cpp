// Launch manifests: valid ones expand to agent specs, every mistake is an error that names
// the file, the line and the key, before anything is spawned.
#include "actors/launch/manifest.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using namespace sluice::runtime;
using namespace sluice::actors;

namespace {

// A folder holding a manifest and an executable ./agent.sh next to it.
struct manifest_dir {
  fs::path dir;
  manifest_dir() {
    char tmpl[] = "/tmp/sluice-manifest-XXXXXX";
    dir = ::mkdtemp(tmpl);
    write("agent.sh", "#!/bin/sh\nexit 0\n", 0755);
    write("not-executable.sh", "#!/bin/sh\n", 0644);
  }
  ~manifest_dir() { fs::remove_all(dir); }
  void write(const std::string& name, const std::string& text, mode_t mode = 0644) const {
    std::ofstream(dir / name) << text;
    ::chmod((dir / name).c_str(), mode);
  }
  result<manifest> parse(const std::string& text) const {
    return parse_manifest(text, dir / "swarm.toml");
  }
};

std::string error_of(const result<manifest>& r) {
  REQUIRE_FALSE(r);
  return r.err().message;
}

}  // namespace

TEST_CASE("a valid manifest expands replicas and resolves commands against its folder") {
  manifest_dir d;
  auto m = d.parse(R"(
bus = "swarm"
[inbox]
capacity = 200
[monitors]
overflow_interval = "250ms"
prometheus_port = 9464
[[agent]]
name = "coordinator"
command = ["./agent.sh", "--tasks", "10"]
role = "job"
[[agent]]
name = "worker"
command = ["sh", "-c", "exit 0"]
replicas = 3
restart = "on-failure"
max_restarts = 2
restart_backoff = "50ms"
env = { MODE = "fast" }
inbox = { capacity = 50 }
)");
  REQUIRE(m);
  CHECK(m->bus == std::optional<std::string>("swarm"));
  CHECK(m->monitors.overflow_interval == std::chrono::milliseconds{250});
  CHECK(m->monitors.prometheus_port == 9464);
  CHECK(m->has_jobs());
  REQUIRE(m->agents.size() == 4);
  CHECK(m->agents[0].name == "coordinator");
  CHECK(m->agents[0].executable == d.dir / "agent.sh");
  CHECK(m->agents[0].command == std::vector<std::string>{"./agent.sh", "--tasks", "10"});
  CHECK(m->agents[0].role == agent_role::job);
  CHECK(m->agents[0].inbox.capacity == 200);
  CHECK(m->agents[3].name == "worker-3");
  CHECK(m->agents[3].executable.filename() == "sh");
  CHECK(m->agents[3].restart == restart_mode::on_failure);
  CHECK(m->agents[3].max_restarts == 2);
  CHECK(m->agents[3].restart_backoff == std::chrono::milliseconds{50});
  CHECK(m->agents[3].inbox.capacity == 50);
  CHECK(m->agents[3].env == std::vector<std::pair<std::string, std::string>>{{"MODE", "fast"}});
}

TEST_CASE("an unknown key is an error naming the file, the line and the key") {
  manifest_dir d;
  const auto msg =
      error_of(d.parse("[[agent]]\nname = \"w\"\ncommand = [\"sh\"]\nrestrat = \"always\"\n"));
  CHECK_THAT(msg, Catch::Contains("swarm.toml:4: agent[0].restrat: unknown key"));
  CHECK_THAT(error_of(d.parse("colour = true\n[[agent]]\nname = \"w\"\ncommand = [\"sh\"]\n")),
             Catch::Contains("swarm.toml:1: colour: unknown key"));
  CHECK_THAT(error_of(d.parse(
                 "[monitors]\nintervall = \"1s\"\n[[agent]]\nname = \"w\"\ncommand = [\"sh\"]\n")),
             Catch::Contains("swarm.toml:2: monitors.intervall: unknown key"));
}

TEST_CASE("a bad value is an error naming the line, the key and what is accepted") {
  manifest_dir d;
  CHECK_THAT(
      error_of(d.parse("[[agent]]\nname = \"w\"\ncommand = [\"sh\"]\nrestart = \"sometimes\"\n")),
      Catch::Contains(
          "swarm.toml:4: agent 'w'.restart: 'sometimes' is not one of: never, on-failure, always"));
  CHECK_THAT(error_of(d.parse("[[agent]]\nname = \"w\"\ncommand = [\"sh\"]\nreplicas = 0\n")),
             Catch::Contains("swarm.toml:4: agent 'w'.replicas: must be between 1 and"));
  CHECK_THAT(error_of(d.parse(
                 "[[agent]]\nname = \"w\"\ncommand = [\"sh\"]\nrestart_backoff = \"soon\"\n")),
             Catch::Contains("swarm.toml:4: agent 'w'.restart_backoff"));
  CHECK_THAT(error_of(d.parse("[[agent]]\nname = \"w\"\ncommand = \"sh\"\n")),
             Catch::Contains("swarm.toml:3: agent 'w'.command: must be an array of strings"));
  CHECK_THAT(error_of(d.parse("[[agent]]\nname = \"w\"\ncommand = [\"sh\"]\nrole = \"daemon\"\n")),
             Catch::Contains("agent 'w'.role: 'daemon' is not one of: service, job"));
  CHECK_THAT(
      error_of(d.parse("[inbox]\ncapacity = -1\n[[agent]]\nname = \"w\"\ncommand = [\"sh\"]\n")),
      Catch::Contains("swarm.toml:2: inbox.capacity: must be between 1 and"));
  CHECK_THAT(error_of(d.parse("[[agent]\nname = \"w\"\n")), Catch::Contains("swarm.toml:1:"));
}

TEST_CASE("an env that sets a variable launch gives every agent is refused, not dropped") {
  manifest_dir d;
  for (const char* var : {"SLUICE_DIR", "SLUICE_BUS", "SLUICE_AGENT", "SLUICE_RESTARTS"}) {
    INFO(var);
    CHECK_THAT(error_of(d.parse("[[agent]]\nname = \"w\"\ncommand = [\"sh\"]\nenv = { " +
                                std::string(var) + " = \"x\" }\n")),
               Catch::Contains("swarm.toml:4: agent 'w'.env." + std::string(var) +
                               ": launch sets it for every agent"));
  }
  CHECK(d.parse(
      "[[agent]]\nname = \"w\"\ncommand = [\"sh\"]\nenv = { SLUICE_LOG_LEVEL = \"debug\" }\n"));
}

TEST_CASE("a missing command, a missing name and an invalid name are errors") {
  manifest_dir d;
  CHECK_THAT(error_of(d.parse("[[agent]]\nname = \"w\"\n")),
             Catch::Contains("swarm.toml:1: agent 'w'.command: missing"));
  CHECK_THAT(error_of(d.parse("[[agent]]\ncommand = [\"sh\"]\n")),
             Catch::Contains("swarm.toml:1: agent[0].name: missing"));
  CHECK_THAT(error_of(d.parse("[[agent]]\nname = \"../etc\"\ncommand = [\"sh\"]\n")),
             Catch::Contains("swarm.toml:2: agent[0].name: '../etc' is not a valid agent name"));
  CHECK_THAT(error_of(d.parse("bus = \"a b\"\n[[agent]]\nname = \"w\"\ncommand = [\"sh\"]\n")),
             Catch::Contains("swarm.toml:1: bus: 'a b' is not a valid bus name"));
  CHECK_THAT(error_of(d.parse("bus = \"x\"\n")), Catch::Contains("no [[agent]] tables"));
}

TEST_CASE("duplicate names, also after replica expansion, are errors") {
  manifest_dir d;
  CHECK_THAT(error_of(d.parse("[[agent]]\nname = \"w\"\ncommand = [\"sh\"]\n[[agent]]\nname = "
                              "\"w\"\ncommand = [\"sh\"]\n")),
             Catch::Contains("swarm.toml:4: agent 'w'.name: duplicate agent name"));
  CHECK_THAT(error_of(d.parse("[[agent]]\nname = \"w\"\ncommand = [\"sh\"]\nreplicas = 2\n"
                              "[[agent]]\nname = \"w-2\"\ncommand = [\"sh\"]\n")),
             Catch::Contains("agent 'w-2'.name: duplicate agent name"));
}

TEST_CASE("a command that is missing or not executable is an error naming it") {
  manifest_dir d;
  CHECK_THAT(
      error_of(d.parse("[[agent]]\nname = \"w\"\ncommand = [\"./not-executable.sh\"]\n")),
      Catch::Contains(
          "swarm.toml:3: agent 'w'.command: './not-executable.sh' is not an executable file"));
  CHECK_THAT(error_of(d.parse("[[agent]]\nname = \"w\"\ncommand = [\"./missing\"]\n")),
             Catch::Contains("'./missing' is not an executable file (relative paths start at"));
  CHECK_THAT(error_of(d.parse("[[agent]]\nname = \"w\"\ncommand = [\"no-such-program-sluice\"]\n")),
             Catch::Contains("'no-such-program-sluice' is not an executable file found in PATH"));
}

TEST_CASE("loading a manifest that does not exist says which file") {
  auto r = load_manifest("/nonexistent/swarm.toml");
  REQUIRE_FALSE(r);
  CHECK(r.err().code == errc::not_found);
  CHECK_THAT(r.err().message, Catch::Contains("/nonexistent/swarm.toml"));
}

TEST_CASE("a [bridge] section is read with its defaults, and is enough to launch") {
  manifest_dir d;
  d.write("bridge.secret", "s3cret\n", 0600);
  auto m = d.parse(R"(
[bridge]
name = "east"
listen = "127.0.0.1:0"
secret_file = "bridge.secret"
)");
  REQUIRE(m);
  REQUIRE(m->bridge);
  CHECK(m->agents.empty());
  CHECK(m->bridge->name == "east");
  CHECK(m->bridge->listen == "127.0.0.1:0");
  CHECK(m->bridge->connect.empty());
  CHECK(m->bridge->secret_file == d.dir / "bridge.secret");
  CHECK(m->bridge->restart == restart_mode::on_failure);
  CHECK(m->bridge->line == 2);

  auto c = d.parse(
      "[bridge]\nconnect = \"peer.example:7400\"\nrestart = \"always\"\n"
      "restart_backoff = \"1s\"\n[[agent]]\nname = \"w\"\ncommand = [\"sh\"]\n");
  REQUIRE(c);
  CHECK(c->bridge->name.empty());  // the bus name, chosen at launch
  CHECK(c->bridge->connect == "peer.example:7400");
  CHECK(c->bridge->restart == restart_mode::always);
  CHECK(c->bridge->restart_backoff == std::chrono::seconds(1));
  CHECK(c->agents.size() == 1);

  // A bridge may listen and connect at once, as `sluice bridge --listen --connect` may.
  auto both = d.parse("[bridge]\nlisten = \"127.0.0.1:7400\"\nconnect = \"peer.example:7400\"\n");
  REQUIRE(both);
  CHECK(both->bridge->listen == "127.0.0.1:7400");
  CHECK(both->bridge->connect == "peer.example:7400");
}

TEST_CASE("[[bridge.peer]] tables and TLS files are read into the [bridge] section") {
  manifest_dir d;
  d.write("ca.pem", "ca\n");
  d.write("west.pem", "cert\n");
  d.write("west.key", "key\n", 0600);
  auto m = d.parse(R"(
[bridge]
name = "west"
listen = "127.0.0.1:7400"
tls_cert = "west.pem"
tls_key = "west.key"
tls_ca = "ca.pem"
[[bridge.peer]]
connect = "east.example:7400"
[[bridge.peer]]
connect = "north.example:7401"
)");
  REQUIRE(m);
  REQUIRE(m->bridge);
  CHECK(m->bridge->listen == "127.0.0.1:7400");
  CHECK(m->bridge->peers == std::vector<std::string>{"east.example:7400", "north.example:7401"});
  CHECK(m->bridge->tls_cert == d.dir / "west.pem");
  CHECK(m->bridge->tls_key == d.dir / "west.key");
  CHECK(m->bridge->tls_ca == d.dir / "ca.pem");
  // Peers alone are enough: a bridge that only connects.
  auto p = d.parse("[bridge]\n[[bridge.peer]]\nconnect = \"h:1\"\n");
  REQUIRE(p);
  CHECK(p->bridge->listen.empty());
  CHECK(p->bridge->peers == std::vector<std::string>{"h:1"});

  using Catch::Matchers::Contains;
  CHECK_THAT(error_of(d.parse("[bridge]\n[[bridge.peer]]\nhost = \"h:1\"\n")),
             Contains(":3: bridge.peer[0].host: unknown key"));
  CHECK_THAT(error_of(d.parse("[bridge]\n[[bridge.peer]]\n")),
             Contains("bridge.peer[0]: needs connect"));
  CHECK_THAT(error_of(d.parse("[bridge]\n[[bridge.peer]]\nconnect = \"h:0\"\n")),
             Contains("bridge.peer[0].connect: 'h:0' is not HOST:PORT"));
  CHECK_THAT(error_of(d.parse("[bridge]\npeer = \"h:1\"\n")),
             Contains("bridge.peer: must be an array of tables"));
  CHECK_THAT(error_of(d.parse("[bridge]\nlisten = \"h:0\"\ntls_cert = \"west.pem\"\n")),
             Contains("bridge: TLS needs all three of tls_cert, tls_key and tls_ca"));
  d.write("open.key", "key\n", 0644);
  CHECK_THAT(error_of(d.parse("[bridge]\nlisten = \"h:0\"\ntls_cert = \"west.pem\"\n"
                              "tls_key = \"open.key\"\ntls_ca = \"ca.pem\"\n")),
             Contains("bridge.tls_key: " + (d.dir / "open.key").string() +
                      ": other users may read it; chmod 600"));
  CHECK_THAT(
      error_of(d.parse("[bridge]\nlisten = \"h:0\"\ntls_cert = \"west.pem\"\n"
                       "tls_key = \"west.key\"\ntls_ca = \"missing.pem\"\n")),
      Contains("bridge.tls_ca: " + (d.dir / "missing.pem").string() + " is not a readable file"));
}

TEST_CASE("a bad [bridge] section is a one-line error naming the line and the key") {
  manifest_dir d;
  auto err = [&](const std::string& text) {
    const auto msg = error_of(d.parse(text));
    CHECK(msg.find('\n') == std::string::npos);
    return msg;
  };
  using Catch::Matchers::Contains;
  using Catch::Matchers::StartsWith;
  const std::string file = (d.dir / "swarm.toml").string();
  CHECK_THAT(
      err("[bridge]\nname = \"east\"\n"),
      StartsWith(file +
                 ":1: bridge: give listen = \"HOST:PORT\", connect = \"HOST:PORT\" or both"));
  CHECK_THAT(err("[bridge]\nlisten = \"7400\"\n"),
             StartsWith(file + ":2: bridge.listen: '7400' is not HOST:PORT"));
  CHECK_THAT(err("[bridge]\nconnect = \"h:0\"\n"),
             Contains("bridge.connect: 'h:0' is not HOST:PORT with a port 1..65535"));
  CHECK_THAT(err("[bridge]\nconnect = \"h:65536\"\n"), Contains("bridge.connect"));
  CHECK_THAT(err("[bridge]\nlisten = \"h:0\"\nname = \"a.b\"\n"),
             Contains(":3: bridge.name: 'a.b' is not a valid bridge name"));
  CHECK_THAT(err("[bridge]\nlisten = \"h:0\"\nport = 1\n"), Contains("bridge.port: unknown key"));
  CHECK_THAT(err("[bridge]\nlisten = \"h:0\"\nrestart = \"often\"\n"),
             Contains("bridge.restart: 'often' is not one of"));
  CHECK_THAT(
      err("[bridge]\nlisten = \"h:0\"\nsecret_file = \"missing\"\n"),
      Contains("bridge.secret_file: " + (d.dir / "missing").string() + " is not a readable file"));
  d.write("open.secret", "s\n", 0644);
  CHECK_THAT(err("[bridge]\nlisten = \"h:0\"\nsecret_file = \"open.secret\"\n"),
             Contains("other users may read it; chmod 600"));
  CHECK_THAT(err("[bridge]\nlisten = \"h:0\"\n[[agent]]\nname = \"bridge\"\ncommand = [\"sh\"]\n"),
             Contains("agent 'bridge'.name: taken by the [bridge] section's process"));
  CHECK_THAT(err("bus = \"b\"\n"), Contains("no [[agent]] tables and no [bridge]"));
}
