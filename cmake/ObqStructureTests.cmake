# The tree's structure, checked by the test command (label "structure"; every
# configuration runs them, they take well under a second):
#   layers              the include graph follows docs/layers.md (ci/layers.sh)
#   layers-selftest     ci/layers.sh fails on a planted upward include, cycle, unlisted file
#   rules-doc-anchors   every rule of oblique/bits/rules.h has its anchor in docs/checker.md
#   rules-doc-selftest  ci/rules-doc.sh fails on a missing anchor and on an undocumented row
set(_s ${PROJECT_SOURCE_DIR}/ci)
add_test(NAME layers COMMAND bash ${_s}/layers.sh)
add_test(NAME layers-selftest COMMAND bash ${_s}/tests/structure_selftest.sh layers)
add_test(NAME rules-doc-anchors COMMAND bash ${_s}/rules-doc.sh)
add_test(NAME rules-doc-selftest COMMAND bash ${_s}/tests/structure_selftest.sh rules-doc)
set_tests_properties(layers layers-selftest rules-doc-anchors rules-doc-selftest
                     PROPERTIES LABELS structure TIMEOUT 60)
