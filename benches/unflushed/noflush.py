import time
for i in range(1, 4):
    print(f"epoch {i} loss={1/i:.3f}")
    time.sleep(1)
