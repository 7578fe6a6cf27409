#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "search/pareto_report.h"
#include "supernet/search_space.h"

namespace ofa {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(ParetoReport, NiceTicksAreRoundAndCoverTheRange) {
  EXPECT_EQ(nice_ticks(0.0, 10.0, 5), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(nice_ticks(2.1, 18.3, 8), (std::vector<double>{4, 6, 8, 10, 12, 14, 16, 18}));
  const std::vector<double> small = nice_ticks(0.871, 0.893, 5);
  ASSERT_FALSE(small.empty());
  EXPECT_NEAR(small[1] - small[0], 0.005, 1e-12);
  EXPECT_GE(small.front(), 0.871);
  EXPECT_LE(small.back(), 0.893);
}

TEST(ParetoReport, CsvAndSvgHoldEveryPointAndMark) {
  const SearchSpace space = load_search_space("mbv3-small");
  std::vector<ParetoPoint> front;
  for (std::uint64_t i = 0; i < 7; ++i)
    front.push_back(
        {sample_subnet(space, {}, 5, i), 0.80 + 0.01 * static_cast<double>(i), 2.0 + static_cast<double>(i)});
  const std::vector<MarkedSubnet> marked = {{"phone<&>", 3.0, 0.81}, {"watch", 7.5, 0.86}};
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "pareto_report";
  std::filesystem::create_directories(dir);
  const ParetoAxis axis{"macs", "M"};
  write_pareto_csv((dir / "front.csv").string(), axis, front);
  write_pareto_svg((dir / "front.svg").string(), axis, front, marked, "a title");

  std::istringstream csv(read_text((dir / "front.csv").string()));
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line, "macs_M,predicted_top1,resolution,depths,kernels,expands");
  std::size_t rows = 0;
  while (std::getline(csv, line)) {
    EXPECT_EQ(count(line, ","), 5u) << line;
    EXPECT_EQ(std::stod(line.substr(0, line.find(','))), front[rows].metric);
    ++rows;
  }
  EXPECT_EQ(rows, front.size());

  const std::string svg = read_text((dir / "front.svg").string());
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(svg.find("</svg>\n"), std::string::npos);
  EXPECT_EQ(count(svg, "<circle"), front.size() + marked.size());
  EXPECT_NE(svg.find(">phone&lt;&amp;&gt;</text>"), std::string::npos);  // labels are escaped
  EXPECT_NE(svg.find(">watch</text>"), std::string::npos);
  EXPECT_NE(svg.find("macs (M)"), std::string::npos);
  EXPECT_NE(svg.find("predicted top-1 accuracy (%)"), std::string::npos);
  EXPECT_EQ(count(svg, "<text"), count(svg, "</text>"));
  EXPECT_GE(count(svg, "text-anchor=\"middle\">"), 4u);  // title, x label, x ticks
}

}  // namespace
}  // namespace ofa
