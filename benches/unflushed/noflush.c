#include <stdio.h>
#include <unistd.h>
int main(void) {
    for (int i = 1; i <= 3; i++) {
        printf("epoch %d loss=%.3f\n", i, 1.0 / i);
        sleep(1);
    }
    return 0;
}
