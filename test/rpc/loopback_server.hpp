// A Server on one in-process loopback fabric, started before each test and stopped after it:
// the fixture of the server unit tests that run without MPI (unit_server_s5.cpp,
// unit_server_s6.cpp).
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "rpc/transport_loopback.hpp"
#include "server/server.hpp"

class LoopbackServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fabric_ = std::make_unique<edaos::objstore::rpc::LoopbackFabric>(1);
    server_ = std::make_unique<edaos::objstore::server::Server>(fabric_->server(0), 0, 1);
    server_->start();
  }
  void TearDown() override {
    server_->stop();
    server_.reset();
    fabric_.reset();
  }

  std::unique_ptr<edaos::objstore::rpc::LoopbackFabric> fabric_;
  std::unique_ptr<edaos::objstore::server::Server> server_;
};
