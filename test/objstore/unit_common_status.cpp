#include <gtest/gtest.h>

#include <set>
#include <string>

#include "edaos/objstore/status.hpp"
#include "edaos/objstore/types.hpp"

using edaos::Result;
using edaos::Status;
using edaos::objstore::ObjectId;
using edaos::objstore::Uuid;

TEST(Status, NamesAndDescriptionsComeFromOneList) {
  EXPECT_STREQ(edaos_status_name(EDAOS_NOSPACE), "NOSPACE");
  EXPECT_STREQ(edaos_status_describe(EDAOS_NOSPACE), "no space left in the pool");
  EXPECT_STREQ(edaos_status_name(12345), "UNKNOWN");
  std::set<int> values;
#define CHECK_(name, value, desc) EXPECT_TRUE(values.insert(value).second) << #name;
  EDAOS_STATUS_LIST(CHECK_)
#undef CHECK_
}

TEST(Status, MessageAndContext) {
  Status st(EDAOS_BUSY, "pool in use by host:42");
  EXPECT_EQ(st.to_string(), "BUSY: pool in use by host:42");
  EXPECT_EQ(st.with_context("connect ./pool").message(), "connect ./pool: pool in use by host:42");
  EXPECT_EQ(Status(EDAOS_IO).to_string(), "IO: input/output error");
  EXPECT_TRUE(Status::OK().with_context("x").ok());
}

static Result<int> half(int x) {
  if (x % 2) return Status(EDAOS_INVAL, "odd");
  return x / 2;
}
static Status quarter(int x, int* out) {
  EDAOS_ASSIGN_OR_RETURN(int h, half(x));
  EDAOS_ASSIGN_OR_RETURN(int q, half(h));
  *out = q;
  return Status::OK();
}

TEST(Status, ResultPropagation) {
  int q = 0;
  EXPECT_TRUE(quarter(8, &q).ok());
  EXPECT_EQ(q, 2);
  EXPECT_EQ(quarter(6, &q).code(), EDAOS_INVAL);
}

TEST(Types, UuidRoundTrip) {
  Uuid a = Uuid::generate(), b = Uuid::generate();
  EXPECT_NE(a, b);
  auto p = Uuid::parse(a.to_string());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.value(), a);
  EXPECT_FALSE(Uuid::parse("not-a-uuid").ok());
  EXPECT_EQ(a.to_string()[14], '4');
}

TEST(Types, ObjectIdRoundTrip) {
  ObjectId o{0x1234000000000000ull, 0x2a};
  EXPECT_EQ(o.to_string(), "1234000000000000.2a");
  auto p = ObjectId::parse(o.to_string());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.value(), o);
  EXPECT_FALSE(ObjectId::parse("12.zz").ok());
}
