/* whereami: a tiny compiled program carrying a *binary* prefix placeholder.
 *
 * conda-build records the host prefix of the build (the long "_placehold" path
 * below, 255 characters) in info/has_prefix with file_mode "binary". At link
 * time conda overwrites those bytes with the environment prefix and pads the
 * rest with NUL bytes, so the file keeps its size and the C string simply ends
 * earlier. Run the installed program to see the prefix it was linked into.
 *
 * Built once and committed next to this source (the teaching-channel builder
 * copies the binary, it never runs a compiler):
 *     gcc -O2 -s -Wl,--build-id=none -o whereami whereami.c
 */
#include <stdio.h>

static const char install_prefix[] =
    "/home/builder/conda-bld/whereami_1700000000000/_h_env_placehold_placehold_placehold_placehold_placehold_placehold_placehold_placehold_placehold_placehold_placehold_placehold_placehold_placehold_placehold_placehold_placehold_placehold_placehold_placehold_p";

int main(void)
{
    printf("whereami: installed in %s\n", install_prefix);
    return 0;
}
