// The unpickler on pickles made by CPython (bytes pasted below, made with pickle.dumps) and on
// hand-made hostile ones.
#include <gtest/gtest.h>

#include <othrun/error.hpp>

#include "checkpoint/pickle_reader.hpp"

namespace othrun::checkpoint {
namespace {

// Made by CPython 3.11: see the comment above each for the value.
const std::string kMixed4(
    "\x80\x04\x95T\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01"
    "a\x94K\x01\x8c\x01"
    "b\x94]\x94(G\x3f\xf8\x00\x00\x00\x00\x00\x00N\x88\x89"
    "e\x8c\x01"
    "c\x94\x8c\x01x\x94J\xfd\xff\xff\xff\x8a\x06\x00\x00\x00\x00\x00\x01\x87\x94\x8c\x01"
    "d\x94"
    "C\x02\x00\x01\x94\x8c\x01"
    "e\x94\x8f\x94(K\x01K\x02\x90\x8c\x01"
    "f\x94(K\x03\x91\x94u.",
    95);
const std::string kMixed2(
    "\x80\x02}q\x00(X\x01\x00\x00\x00"
    "aq\x01K\x01X\x01\x00\x00\x00"
    "bq\x02]q\x03(G\x3f\xf8\x00\x00\x00\x00\x00\x00N\x88\x89"
    "eX\x01\x00\x00\x00"
    "cq\x04X\x01\x00\x00\x00xq\x05J\xfd\xff\xff\xff\x8a\x06\x00\x00\x00\x00\x00\x01\x87q\x06X\x01"
    "\x00\x00\x00"
    "dq\x07"
    "c_codecs\x0a"
    "encode\x0aq\x08X\x02\x00\x00\x00\x00\x01q\x09X\x06\x00\x00\x00latin1q\x0a\x86q\x0bRq\x0cX\x01"
    "\x00\x00\x00"
    "eq\x0d"
    "c__builtin__\x0aset\x0aq\x0e]q\x0f(K\x01K\x02"
    "e\x85q\x10Rq\x11X\x01\x00\x00\x00"
    "fq\x12"
    "c__builtin__\x0a"
    "frozenset\x0aq\x13]q\x14K\x03"
    "a\x85q\x15Rq\x16u.",
    216);
const std::string kDataclass2(
    "\x80\x02}q\x00X\x03\x00\x00\x00"
    "cfgq\x01"
    "c__main__\x0a"
    "Cfg\x0aq\x02)\x81q\x03}q\x04(X\x04\x00\x00\x00"
    "d_"
    "inq\x05M\x00\x02X\x04\x00\x00\x00nameq\x06X\x03\x00\x00\x00saeq\x07X\x02\x00\x00\x00lrq\x08G>"
    "\xffu\x10MU\x1diubs.",
    96);
const std::string kDataclass5(
    "\x80\x05\x95J\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x03"
    "cfg\x94\x8c\x08__main__\x94\x8c\x03"
    "Cfg\x94\x93\x94)\x81\x94}\x94(\x8c\x04"
    "d_in\x94M\x00\x02\x8c\x04name\x94\x8c\x03sae\x94\x8c\x02lr\x94G>\xffu\x10MU\x1diubs.",
    85);
const std::string kOrdered2(
    "\x80\x02"
    "ccollections\x0aOrderedDict\x0aq\x00)Rq\x01(X\x01\x00\x00\x00zq\x02K\x01X\x01\x00\x00\x00"
    "aq\x03K\x02u.",
    56);
const std::string kSlotsEnum2(
    "\x80\x02]q\x00(c__main__\x0aSlotted\x0aq\x01)\x81q\x02N}q\x03X\x01\x00\x00\x00"
    "aq\x04K\x07s\x86q\x05"
    "bc__builtin__\x0agetattr\x0aq\x06"
    "c__main__\x0a"
    "Color\x0aq\x07X\x03\x00\x00\x00REDq\x08\x86q\x09Rq\x0a"
    "e.",
    108);
const std::string kProtocol0("(dp0\x0aVa\x0ap1\x0aVb\x0ap2\x0as.", 19);

// A string literal with embedded NULs (all its bytes but the terminator).
template <std::size_t N>
std::string P(const char (&s)[N]) {
  return std::string(s, N - 1);
}

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

// Storages for tests: `numel` float32 elements 0, 1, 2, ... per key.
std::shared_ptr<Storage> fake_storage(const StorageRequest& r) {
  auto s = Storage::allocate(static_cast<std::size_t>(r.numel) * dtype_size(r.dtype));
  HostTensor view(DType::Float32, {r.numel}, {1}, 0, s);
  for (std::int64_t i = 0; i < r.numel; ++i) reinterpret_cast<float*>(s->data())[i] = float(i);
  return s;
}

PyValue load(const std::string& pickle) {
  return unpickle(bytes_of(pickle), "test.pkl", fake_storage).root;
}

std::string error_of(const std::string& pickle) {
  try {
    load(pickle);
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

void check_mixed(const PyValue& v) {
  // {'a': 1, 'b': [1.5, None, True, False], 'c': ('x', -3, 2**40), 'd': b'\x00\x01',
  //  'e': {1, 2}, 'f': frozenset([3])}
  ASSERT_EQ(v.kind(), PyValue::Kind::Dict);
  EXPECT_FALSE(v.is_ordered_dict());
  EXPECT_EQ(v["a"].as_int(), 1);
  const auto& b = v["b"].items();
  ASSERT_EQ(b.size(), 4u);
  EXPECT_EQ(b[0].as_float(), 1.5);
  EXPECT_TRUE(b[1].is_none());
  EXPECT_TRUE(b[2].as_bool());
  EXPECT_FALSE(b[3].as_bool());
  EXPECT_EQ(v["c"].kind(), PyValue::Kind::Tuple);
  EXPECT_EQ(v["c"].items()[0].as_string(), "x");
  EXPECT_EQ(v["c"].items()[1].as_int(), -3);
  EXPECT_EQ(v["c"].items()[2].as_int(), std::int64_t{1} << 40);
  EXPECT_EQ(v["d"].kind(), PyValue::Kind::Bytes);
  EXPECT_EQ(v["d"].as_string(), std::string("\x00\x01", 2));
  EXPECT_EQ(v["e"].kind(), PyValue::Kind::Set);
  EXPECT_EQ(v["e"].items().size(), 2u);
  EXPECT_EQ(v["f"].items()[0].as_int(), 3);
  EXPECT_EQ(v.repr(),
            "{'a': 1, 'b': [1.5, None, True, False], 'c': ('x', -3, 1099511627776), "
            "'d': b'\\x00\\x01', 'e': {1, 2}, 'f': {3}}");
}

TEST(Unpickle, Protocol4Values) { check_mixed(load(kMixed4)); }
TEST(Unpickle, Protocol2Values) { check_mixed(load(kMixed2)); }

TEST(Unpickle, ReportsProtocol) {
  EXPECT_EQ(unpickle(bytes_of(kMixed4), "x", fake_storage).protocol, 4);
  EXPECT_EQ(unpickle(bytes_of(kDataclass5), "x", fake_storage).protocol, 5);
}

void check_dataclass(const PyValue& v) {
  const PyValue& cfg = v["cfg"];
  ASSERT_EQ(cfg.kind(), PyValue::Kind::Object);
  EXPECT_EQ(cfg.class_name(), "__main__.Cfg");
  EXPECT_EQ(cfg["d_in"].as_int(), 512);
  EXPECT_EQ(cfg["name"].as_string(), "sae");
  EXPECT_DOUBLE_EQ(cfg["lr"].as_float(), 3e-5);
  EXPECT_EQ(cfg.find("missing"), nullptr);
  EXPECT_EQ(cfg.repr(), "__main__.Cfg(d_in=512, name='sae', lr=3e-05)");
}

TEST(Unpickle, DataclassProtocol2) { check_dataclass(load(kDataclass2)); }
TEST(Unpickle, DataclassProtocol5) { check_dataclass(load(kDataclass5)); }

TEST(Unpickle, OrderedDictKeepsOrder) {
  PyValue v = load(kOrdered2);
  ASSERT_TRUE(v.is_ordered_dict());
  ASSERT_EQ(v.dict_items().size(), 2u);
  EXPECT_EQ(v.dict_items()[0].first.as_string(), "z");
  EXPECT_EQ(v.dict_items()[1].second.as_int(), 2);
}

TEST(Unpickle, UnknownCallsBecomeObjectsAndRunNothing) {
  // [Slotted() with a=7, Color.RED] -- the enum is getattr(Color, 'RED') at protocol 2
  PyValue v = load(kSlotsEnum2);
  const PyValue& slotted = v.items()[0];
  EXPECT_EQ(slotted.class_name(), "__main__.Slotted");
  EXPECT_EQ(slotted["a"].as_int(), 7);  // from the (None, {slots}) state
  const PyValue& red = v.items()[1];
  EXPECT_EQ(red.class_name(), "__builtin__.getattr");
  EXPECT_EQ(red.items()[0].kind(), PyValue::Kind::Global);
  EXPECT_EQ(red.items()[0].class_name(), "__main__.Color");
  EXPECT_EQ(red.items()[1].as_string(), "RED");
  // os.system('touch x'): an object describing the call, nothing else.
  PyValue call =
      load(P("\x80\x02"
             "cos\nsystem\nX\x07\x00\x00\x00"
             "touch x\x85R."));
  EXPECT_EQ(call.class_name(), "os.system");
  EXPECT_EQ(call.items()[0].as_string(), "touch x");
}

TEST(Unpickle, SetItemReplacesExistingKeys) {
  // {'a': 1} then SETITEM 'a' = 2, and an int key 5 set twice
  PyValue v =
      load(P("\x80\x02}(X\x01\x00\x00\x00"
             "aK\x01K\x05K\x01X\x01\x00\x00\x00"
             "aK\x02K\x05K\x03u."));
  ASSERT_EQ(v.dict_items().size(), 2u);
  EXPECT_EQ(v["a"].as_int(), 2);
  EXPECT_EQ(v.dict_items()[1].second.as_int(), 3);
}

TEST(Unpickle, MemoSharesObjects) {
  // l = [1]; [l, l] with BINPUT/BINGET
  PyValue v =
      load(P("\x80\x02](]q\x00K\x01"
             "ah\x00"
             "e."));
  ASSERT_EQ(v.items().size(), 2u);
  EXPECT_EQ(v.items()[0].items()[0].as_int(), 1);
  EXPECT_EQ(&v.items()[0].items(), &v.items()[1].items());  // one shared subtree
}

TEST(Unpickle, Protocol1TextOpcodes) {
  // (I01, L5L, F2.5, 'x' GET): a tuple (True, 5, 2.5)
  PyValue v = load("(I01\nL5L\nF2.5\ntp0\n0g0\n.");
  ASSERT_EQ(v.kind(), PyValue::Kind::Tuple);
  EXPECT_TRUE(v.items()[0].as_bool());
  EXPECT_EQ(v.items()[1].as_int(), 5);
  EXPECT_EQ(v.items()[2].as_float(), 2.5);
}

TEST(Unpickle, TorchDeviceAndDType) {
  PyValue v =
      load(P("\x80\x02(ctorch\ndevice\nX\x04\x00\x00\x00"
             "cudaK\x01\x86R"
             "ctorch\ndevice\nX\x03\x00\x00\x00"
             "cpu\x85R"
             "ctorch\nbfloat16\nctorch\nfloat\nt."));
  ASSERT_EQ(v.items().size(), 4u);
  EXPECT_EQ(v.items()[0].kind(), PyValue::Kind::Device);
  EXPECT_EQ(v.items()[0].as_string(), "cuda:1");
  EXPECT_EQ(v.items()[1].as_string(), "cpu");
  EXPECT_EQ(v.items()[2].as_dtype(), DType::BFloat16);
  EXPECT_EQ(v.items()[3].as_string(), "float32");  // torch.float is float32
  EXPECT_EQ(v.repr(),
            "(device(type='cuda', index=1), device(type='cpu'), torch.bfloat16, "
            "torch.float32)");
}

// A tensor as torch pickles it: storage key "0" of `numel` floats, then offset, size, stride.
std::string tensor_pickle(const std::string& numel, const std::string& offset,
                          const std::string& size, const std::string& stride) {
  return P("\x80\x02"
           "ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00"
           "storagectorch\n"
           "FloatStorage\nX\x01\x00\x00\x00"
           "0X\x03\x00\x00\x00"
           "cpuK") +
         numel + "tQK" + offset + size + stride + "\x89}tR.";
}

TEST(Unpickle, RebuildsTensorViews) {
  // storage of 6 floats; view offset 1, size (2, 2), stride (1, 2)
  PyValue v = load(tensor_pickle("\x06", "\x01", "K\x02K\x02\x86", "K\x01K\x02\x86"));
  const HostTensor& t = v.as_tensor();
  EXPECT_EQ(t.shape(), (HostTensor::Shape{2, 2}));
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{1, 3, 2, 4}));
}

TEST(Unpickle, RejectsTensorOutsideItsStorage) {
  const std::string error =
      error_of(tensor_pickle("\x06", "\x03", "K\x02K\x02\x86", "K\x01K\x02\x86"));
  EXPECT_NE(error.find("tensor on storage '0': view"), std::string::npos) << error;
  EXPECT_NE(error.find("needs 7 elements but its storage holds 6"), std::string::npos) << error;
}

TEST(Unpickle, RejectsUnknownStorageTypes) {
  std::string p = tensor_pickle("\x06", P("\x00"), "K\x06\x85", "K\x01\x85");
  p.replace(p.find("FloatStorage"), 12, "ComplexFloatStorage");
  EXPECT_NE(error_of(p).find("unsupported storage type torch.ComplexFloatStorage"),
            std::string::npos);
}

struct Hostile {
  const char* name;
  std::string pickle;
  const char* message;
};

class HostilePickle : public ::testing::TestWithParam<Hostile> {};

TEST_P(HostilePickle, IsRejectedWithAClearError) {
  const std::string error = error_of(GetParam().pickle);
  EXPECT_NE(error.find("test.pkl"), std::string::npos) << error;
  EXPECT_NE(error.find(GetParam().message), std::string::npos) << error;
}

std::string many_dups() { return "\x80\x02N" + std::string((std::size_t{1} << 22) + 1, '2') + "."; }

std::string deep_lists(int depth) {
  return "\x80\x02" + std::string(static_cast<std::size_t>(depth), ']') +
         std::string(static_cast<std::size_t>(depth - 1), 'a') + ".";
}

INSTANTIATE_TEST_SUITE_P(
    Unpickle, HostilePickle,
    ::testing::Values(
        Hostile{"Cycle",
                P("\x80\x02]q\x00h\x00"
                  "a."),
                "cyclic reference"},
        Hostile{"DeepNesting", deep_lists(100000), "nested deeper than 200"},
        Hostile{"HugeStack", many_dups(), "more than 4194304 stack items"},
        Hostile{"StackUnderflow",
                "\x80\x02"
                "a.",
                "byte 2: stack underflow"},
        Hostile{"BelowMark", "\x80\x02]K\x01(a.", "byte 6: stack underflow"},
        Hostile{"MissingMemo", "\x80\x02h\x05.", "memo entry 5 is missing"},
        Hostile{"UnknownOpcode", "\x80\x02\xff.", "unsupported pickle opcode 0xff"},
        Hostile{"Protocol0", "(dp0\nVa\np1\nVb\np2\ns.", "unsupported pickle opcode 0x56 'V'"},
        Hostile{"HugeString", "\x80\x02X\xff\xff\xff\x7f", "truncated: needs 2147483647 more"},
        Hostile{"HugeString8", "\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\xff", "truncated"},
        Hostile{"WideInt", "\x80\x02\x8a\x09\x01\x02\x03\x04\x05\x06\x07\x08\x09.",
                "wider than 64 bits"},
        Hostile{"NegativeLong4", "\x80\x02\x8b\xff\xff\xff\xff", "negative length"},
        Hostile{"NoStop", "\x80\x02N", "without a STOP"}, Hostile{"Empty", "", "byte 0: truncated"},
        Hostile{"CallInt", "\x80\x02K\x01)R.", "the called object is an int"},
        Hostile{"ArgsNotTuple",
                "\x80\x02"
                "cos\nsystem\nK\x01R.",
                "arguments are an int"},
        Hostile{"SetItemOnList", "\x80\x02]K\x01K\x02s.", "SETITEM on a list"},
        Hostile{"BuildOnList", "\x80\x02]}b.", "BUILD on a list"},
        Hostile{"AppendToDict",
                "\x80\x02}K\x01"
                "a.",
                "APPEND/ADDITEMS on a dict"},
        Hostile{"FutureProtocol", "\x80\x06N.", "unknown pickle protocol 6"},
        Hostile{"GlobalWithoutNewline",
                "\x80\x02"
                "cos",
                "without a newline"},
        Hostile{"OddSetItems", "\x80\x02}(K\x01u.", "odd number"},
        Hostile{"PersistentIdNotTuple", "\x80\x02K\x01Q.", "persistent id is an int"},
        Hostile{"TextPersistentId", "\x80\x02P0\n.", "PERSID"},
        Hostile{"OutOfBandBuffer", "\x80\x05\x97.", "out-of-band"},
        Hostile{"BadTextInt", "I12x\n.", "bad integer"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace othrun::checkpoint
