// Catch2 v2's main in its own translation unit: it takes ~9 s to compile, so every
// test file links this object instead of recompiling it.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
