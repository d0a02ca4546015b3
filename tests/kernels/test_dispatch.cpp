#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "base/error.hpp"
#include "kernels/kernels.hpp"
#include "random_rows.hpp"

using namespace lmx;
using namespace lmx::kernels;

TEST(Dispatch, ScalarAlwaysFirst) {
    const std::vector<Isa> isas = available_isas();
    ASSERT_FALSE(isas.empty());
    EXPECT_EQ(isas.front(), Isa::scalar);
    for (Isa isa : isas) EXPECT_EQ(table(isa).isa, isa);
}

TEST(Dispatch, EveryTableCoversTheScalarEntries) {
    for (Isa isa : available_isas()) {
        for (int i = 0; i < kMaxDType; i++) {
            EXPECT_EQ(table(isa).weight[i].vec_dot == nullptr, table(Isa::scalar).weight[i].vec_dot == nullptr);
            EXPECT_EQ(table(isa).quantize[i] == nullptr, table(Isa::scalar).quantize[i] == nullptr);
        }
    }
}

TEST(Dispatch, MissingIsaIsAnError) {
    for (Isa isa : {Isa::avx2, Isa::avx512}) {
        if (!test::available(isa)) {
            EXPECT_THROW(table(isa), Error) << isa_name(isa);
        }
    }
}

TEST(Dispatch, EnvironmentOverride) {
    ASSERT_EQ(setenv("LMX_ISA", "scalar", 1), 0);
    EXPECT_EQ(best_table().isa, Isa::scalar);
    ASSERT_EQ(setenv("LMX_ISA", "neon9000", 1), 0);
    try {
        best_table();
        ADD_FAILURE() << "expected lmx::Error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("neon9000"), std::string::npos) << e.what();
    }
    ASSERT_EQ(unsetenv("LMX_ISA"), 0);
    EXPECT_EQ(best_table().isa, available_isas().back());
}
