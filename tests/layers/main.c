/*
 * main - the program each layer check links with one library linked whole
 * (GNUmakefile, target layers): it runs nothing, the link is the test
 */
int     main(void);

int main(void)
{
    return 0;
}
