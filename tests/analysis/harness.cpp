#include "harness.hpp"

#include <othrun/games.hpp>
#include <othrun/othello.hpp>

#include <dlfcn.h>

#include <array>
#include <cstdio>
#include <random>
#include <stdexcept>

namespace othrun::analysis_test {

TempDir::TempDir() {
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() /
          ("othrun-analysis-" + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path fixture(const std::string& name) {
  return std::filesystem::path(OTHRUN_SOURCE_DIR) / "tests/fixtures/analysis" / name;
}

void write_games(Store& store, const std::string& label, std::uint64_t n, std::uint64_t seed) {
  std::vector<std::int8_t> squares;
  std::array<std::int8_t, 60> game{};
  for (std::uint64_t i = 0; squares.size() < n * 60; ++i) {
    othello::SplitMix64 rng(othello::game_seed(seed, i));
    if (othello::random_game(rng, game) == 60)
      squares.insert(squares.end(), game.begin(), game.end());
  }
  const games::GameBatch batch = games::replay(squares, 0, othello::MineTheirs::Real);
  Provenance prov;
  prov.plugin = "games";
  prov.kinds = {games::kKind};
  Product product = store.begin(label, prov);
  games::GamesWriter writer(product.root(), n, games::WriterOptions{});
  writer.write(batch);
  store.commit(std::move(product));
}

void write_activations(Store& store, const std::string& label, const std::string& hook,
                       const std::vector<float>& values, std::uint64_t games,
                       std::uint64_t positions, std::uint64_t width, bool half,
                       std::int64_t first_position) {
  Provenance prov;
  prov.plugin = "inference";
  prov.kinds = {"activations"};
  Product product = store.begin(label, prov);
  Dataset d = product.root().create_dataset<float>(hook, {games, positions, width}, {},
                                                   half ? DType::Float16 : DType::Float32);
  d.write_rows<float>(0, values);
  d.attrs().set("positions_start", first_position);
  d.attrs().set("positions_stop", first_position + static_cast<std::int64_t>(positions));
  store.commit(std::move(product));
}

namespace {

class Context : public RunContext {
 public:
  Context(Store& store, Product& out, const Config& config, int threads)
      : store_(store), out_(out), config_(config), threads_(threads) {}
  Product& output() override { return out_; }
  const Product& input(const std::string& key) override {
    const std::string label = config_.input_label(key);  // "label" of "label:dataset"
    auto it = inputs_.find(label);
    if (it == inputs_.end()) it = inputs_.emplace(label, store_.open(label)).first;
    return it->second;
  }
  std::uint64_t seed() const override { return 12345; }
  int threads() const override { return threads_; }
  Ranks& ranks() override { return ranks_; }

 private:
  Store& store_;
  SingleRank ranks_;
  Product& out_;
  const Config& config_;
  int threads_;
  std::map<std::string, Product> inputs_;
};

const PluginInfo* load_plugin(const std::string& plugin) {
  const std::string path = std::string(OTHRUN_PLUGIN_DIR) + "/" + plugin + ".so";
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);  // kept open for the test's life
  if (!handle) throw std::runtime_error("dlopen " + path + ": " + dlerror());
  auto entry = reinterpret_cast<const PluginInfo* (*)()>(dlsym(handle, OTHRUN_PLUGIN_ENTRY_NAME));
  if (!entry) throw std::runtime_error(path + ": no entry point");
  return entry();
}

}  // namespace

void run_plugin(Store& store, const std::string& plugin, const std::string& label,
                std::map<std::string, Value> values, int threads) {
  const PluginInfo* info = load_plugin(plugin);
  const Schema schema = info->describe();
  for (const ParamSpec& spec : schema.params()) {
    if (!values.count(spec.name) && spec.default_value) values[spec.name] = *spec.default_value;
    if (!values.count(spec.name) && spec.required()) {
      throw std::runtime_error(plugin + ": test config lacks required '" + spec.name + "'");
    }
  }
  const Config config(label, plugin, values);
  if (info->validate) info->validate(config);
  auto step = info->create(config);
  Provenance prov;
  prov.plugin = plugin;
  prov.kinds = schema.kinds();
  prov.config_yaml = config.to_yaml();
  Product product = store.begin(label, prov);
  {
    Context ctx(store, product, config, threads);
    step->run(ctx);
  }
  store.commit(std::move(product));
}

int run_python(const std::string& script, const std::vector<std::string>& args,
               std::string& output) {
  std::string command =
      std::string(OTHRUN_PYTHON3) + " " + OTHRUN_SOURCE_DIR + "/tests/analysis/" + script;
  for (const auto& a : args) command += " '" + a + "'";
  command += " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return -1;
  std::array<char, 4096> buffer{};
  while (fgets(buffer.data(), buffer.size(), pipe)) output += buffer.data();
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace othrun::analysis_test
